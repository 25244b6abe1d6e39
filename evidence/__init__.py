"""soc-evidence: turn an AWS account into an auditor-ready SOC 2 evidence pack."""

__version__ = "0.1.0"
TOOL_NAME = "soc-evidence"
