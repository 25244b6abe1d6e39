"""Security groups judged as a union (checks/ec2.py, checks/internet.py): one group of N ingress
rules (default 1,000, the most AWS allows per group with a raised quota), each a public /16 on
port 22, so every rule is part of the opening and every detail names the union.

Run: .venv/bin/python -m bench.bench_security_groups [--rules N]
Prints wall and CPU seconds and the peak traced memory of judging the group's rules.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from evidence.checks.ec2 import group_ports, rule_verdict
from evidence.model import Status
from evidence.sources.ec2 import PrefixLists


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    args = parser.parse_args()
    rules = [
        {
            "GroupId": "sg-bench",
            "SecurityGroupRuleId": f"sgr-{i}",
            "IpProtocol": "tcp",
            "FromPort": 22,
            "ToPort": 22,
            "CidrIpv4": f"{16 + i // 256}.{i % 256}.0.0/16",
        }
        for i in range(args.rules)
    ]
    lists = PrefixLists({}, {}, {}, {})
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    group = group_ports(rules, (22, 3389), lists)
    verdicts = [rule_verdict(rule, group, (22, 3389), lists) for rule in rules]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    failing = sum(v.status is Status.FAIL for v in verdicts)
    print(
        f"{args.rules} rules in one group: {wall:.2f} s wall, {cpu:.2f} s CPU,"
        f" peak traced {peak_mb:.1f} MB, {failing} failing"
    )


if __name__ == "__main__":
    main()
