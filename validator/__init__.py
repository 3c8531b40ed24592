"""labelpact: declarative data contracts for ML annotation data, compiled to dbt and GX."""

from __future__ import annotations

from .errors import ContractError, ExitCode, LabelpactError
from .lint import LintReport, lint
from .model import Column, Contract
from .resolve import load_contracts

__version__ = "0.1.0"
__all__ = [
           "Column",
           "Contract",
           "ContractError",
           "ExitCode",
           "LabelpactError",
           "LintReport",
           "__version__",
           "lint",
           "load_contracts",
]
