"""labelpact: declarative data contracts for ML annotation data, compiled to dbt and GX.

>>> from validator import gate
>>> if not gate("annotations", max_age="24h"):      # doctest: +SKIP
...     raise SystemExit("labels not validated")
"""

from __future__ import annotations

from validator.contract.lint import LintReport, lint
from validator.contract.model import Column, Contract
from validator.contract.resolve import load_contracts
from validator.errors import ContractError, ExitCode, LabelpactError
from validator.settings import Settings
from validator.verdict.gate import Verdict, gate
from validator.verdict.validate import ValidationRun, validate

__version__ = "0.1.0"
__all__ = [
    "Column",
    "Contract",
    "ContractError",
    "ExitCode",
    "LabelpactError",
    "LintReport",
    "Settings",
    "ValidationRun",
    "Verdict",
    "__version__",
    "gate",
    "lint",
    "load_contracts",
    "validate",
]
