"""labelpact: declarative data contracts for ML annotation data, compiled to dbt and GX.

The public API is what `__all__` lists; docs/api.md documents each name.

>>> from validator import gate
>>> if not gate("annotations", max_age="24h"):      # doctest: +SKIP
...     raise SystemExit("labels not validated")
"""

from __future__ import annotations

from validator.compiler.artifacts import compile_contracts, sync_artifacts
from validator.contract.lint import LintReport, lint
from validator.contract.model import Column, Contract
from validator.contract.resolve import load_contracts
from validator.errors import ContractError, ExitCode, LabelpactError
from validator.settings import Settings
from validator.verdict.gate import Verdict, gate
from validator.verdict.validate import (
    CheckResult,
    ContractVerdict,
    ValidationRun,
    validate,
    validate_incremental,
)

__version__ = "0.1.0"
__all__ = [
    "CheckResult",
    "Column",
    "Contract",
    "ContractError",
    "ContractVerdict",
    "ExitCode",
    "LabelpactError",
    "LintReport",
    "Settings",
    "ValidationRun",
    "Verdict",
    "__version__",
    "compile_contracts",
    "gate",
    "lint",
    "load_contracts",
    "sync_artifacts",
    "validate",
    "validate_incremental",
]
