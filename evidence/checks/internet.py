"""What counts as "the internet" for a set of source addresses: pure, offline, `ipaddress` only.

A security group allows traffic when *any* of its rules allows it (EC2 User Guide, "Security
group rules": "Security groups are permissive; you can't create rules that deny access", and
rules are evaluated together). So the sources that reach a port are the union of every rule's
CIDRs (and of the entries of every prefix list a rule names: VPC User Guide, "Reference prefix
lists in your AWS resources"). Two rules from 0.0.0.0/1 and 128.0.0.0/1 admit all of IPv4 as
surely as one rule from 0.0.0.0/0.

The union is "the internet" when its **public** part (what is left after removing the address
blocks that are not globally reachable) is larger than the biggest network one organisation
holds:

- IPv4 public space is 0.0.0.0/0 minus the blocks of the IANA IPv4 Special-Purpose Address
  Registry (RFC 6890, updated by RFC 8190) that are not globally reachable: "this network"
  0.0.0.0/8, private use 10/8, 172.16/12, 192.168/16 (RFC 1918), shared address space
  100.64/10 (RFC 6598), loopback 127/8, link-local 169.254/16 (RFC 3927), IETF protocol
  assignments 192.0.0.0/24, documentation 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
  (RFC 5737), the deprecated 6to4 relay anycast 192.88.99.0/24 (RFC 7526), benchmarking
  198.18/15 (RFC 2544), multicast 224/4 (RFC 5771) and reserved 240/4 (RFC 1112, incl. the
  limited broadcast address).
  The union is the internet when it holds **more public addresses than one /8** (16,777,216):
  a /8 is the unit IANA hands whole to Regional Internet Registries, and the largest networks
  held by one organisation are legacy /8s, so more than that is never "our own network".
- IPv6 public space is the global unicast block 2000::/3 (IANA IPv6 Address Space registry)
  minus documentation 2001:db8::/32 (RFC 3849); unique local fc00::/7, link-local fe80::/10,
  loopback and multicast lie outside 2000::/3. The union is the internet when it holds **more
  public addresses than one /16**: IANA allocates /12s to the registries, registries allocate
  /32 to /19 to ISPs and a site is a /48, so more than a /16 is far beyond any one network.

Either threshold is reached by 0.0.0.0/0, ::/0, 0.0.0.0/1, 128.0.0.0/1, 2000::/3 and any union
of rules that together cover those; an office /24, a VPC 10.0.0.0/8 or an ISP's /32 are not.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

NOT_GLOBAL_V4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
NOT_GLOBAL_V6 = (ipaddress.IPv6Network("2001:db8::/32"),)

# More public addresses than these blocks hold is "the internet" (see the module docstring).
INTERNET_V4_PREFIX = 8
INTERNET_V6_PREFIX = 16


def _without(networks: Iterable[Network], holes: Iterable[Network]) -> list[Network]:
    """`networks` minus every hole (address_exclude, block by block)."""
    remaining = list(networks)
    for hole in holes:
        next_round: list[Network] = []
        for network in remaining:
            if network.version != hole.version or not network.overlaps(hole):
                next_round.append(network)
            elif hole.supernet_of(network):  # type: ignore[arg-type]
                continue
            else:
                next_round.extend(network.address_exclude(hole))  # type: ignore[arg-type]
        remaining = next_round
    return remaining


@cache
def public_v4() -> tuple[ipaddress.IPv4Network, ...]:
    """Every globally reachable IPv4 block, collapsed (about 3.7 billion addresses)."""
    blocks = _without([ipaddress.IPv4Network("0.0.0.0/0")], NOT_GLOBAL_V4)
    return tuple(ipaddress.collapse_addresses(b for b in blocks if b.version == 4))


@cache
def public_v4_size() -> int:
    return sum(n.num_addresses for n in public_v4())


@cache
def public_part(network: Network) -> tuple[Network, ...]:
    """The globally reachable part of one source network (empty for 10.0.0.0/8, fe80::/10)."""
    if network.version == 4:
        return tuple(_without([network], NOT_GLOBAL_V4))
    inside: list[Network] = [network] if GLOBAL_UNICAST_V6.supernet_of(network) else []
    if network.supernet_of(GLOBAL_UNICAST_V6):
        inside = [GLOBAL_UNICAST_V6]
    return tuple(_without(inside, NOT_GLOBAL_V6))


def parse_source(cidr: str) -> Network | None:
    """A rule's CIDR as a network (host bits ignored, as EC2 stores the network), or None."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


@dataclass(frozen=True)
class Reach:
    """How much of the internet a union of sources reaches, per address family."""

    public_v4: int  # globally reachable IPv4 addresses in the union
    public_v6: int  # globally reachable IPv6 addresses in the union

    @property
    def internet_v4(self) -> bool:
        return self.public_v4 > int(2 ** (32 - INTERNET_V4_PREFIX))

    @property
    def internet_v6(self) -> bool:
        return self.public_v6 > int(2 ** (128 - INTERNET_V6_PREFIX))

    @property
    def internet(self) -> bool:
        return self.internet_v4 or self.internet_v6

    def describe(self) -> str:
        """e.g. "2,147,483,648 public IPv4 addresses (more than a /8)"."""
        parts = []
        if self.internet_v4:
            share = self.public_v4 / public_v4_size()
            parts.append(
                f"{self.public_v4:,} public IPv4 addresses ({_share(share)} of public IPv4,"
                f" more than a /{INTERNET_V4_PREFIX})"
            )
        if self.internet_v6:
            share = self.public_v6 / GLOBAL_UNICAST_V6.num_addresses
            parts.append(
                f"{_share(share)} of global unicast IPv6 (more than a /{INTERNET_V6_PREFIX})"
            )
        return " and ".join(parts)


def _share(fraction: float) -> str:
    return "under 1%" if fraction < 0.01 else f"{fraction:.0%}"


def reach(sources: Iterable[Network]) -> Reach:
    """The public addresses a union of source networks holds (overlaps counted once)."""
    public = [p for s in sources for p in public_part(s)]
    v4 = ipaddress.collapse_addresses(p for p in public if p.version == 4)
    v6 = ipaddress.collapse_addresses(p for p in public if p.version == 6)
    return Reach(sum(n.num_addresses for n in v4), sum(n.num_addresses for n in v6))


def is_public(network: Network) -> bool:
    """Whether a source holds any globally reachable address (it can add to the internet)."""
    return bool(public_part(network))
