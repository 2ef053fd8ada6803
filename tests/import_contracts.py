"""An import-linter contract type the built-in ones lack: an allow-list.

``allowed`` contracts state the only modules that a package may import (besides its own
submodules), e.g. that ``twin.kernels`` imports numpy, numba and math and nothing else — a
rule a forbid-list cannot state, since it would have to name every other package. Loaded by
``lint-imports`` from ``[tool.importlinter] contract_types`` (it runs from the project root,
which it puts on ``sys.path``).
"""

from __future__ import annotations

from typing import Any

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AllowedImportsContract(Contract):
    """``source_modules`` may import only ``allowed_modules`` (and their own submodules)."""

    type_name = "allowed"

    source_modules = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        """List every direct import of a source module outside the allow-list."""
        sources = [str(m) for m in self.source_modules]  # type: ignore[attr-defined]
        allowed = [str(m) for m in self.allowed_modules]  # type: ignore[attr-defined]

        def inside(name: str, roots: list[str]) -> bool:
            return any(name == r or name.startswith(f"{r}.") for r in roots)

        bad = sorted(
            (importer, imported)
            for importer in graph.modules
            if inside(importer, sources)
            for imported in graph.find_modules_directly_imported_by(importer)
            if not inside(imported, sources) and not inside(imported, allowed)
        )
        return ContractCheck(kept=not bad, metadata={"bad": bad})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Name each import outside the allow-list."""
        for importer, imported in check.metadata["bad"]:
            output.print_error(f"{importer} imports {imported}, which is not allowed.")
            output.new_line()
