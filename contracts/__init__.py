"""The contract as data: the single source, at the top of the repository where a reader looks first.

Nothing here is code. `openapi.yaml` (OpenAPI 3.1, its schemas by relative $ref), `schemas/` (the
JSON Schemas derived from the documented responses), `examples/` (the documents' own examples) and
`claims.yaml` (every documented statement, its citation or readings, and what checks it).

This file only makes the folder a package: pyproject.toml maps it to `eicontract.contract.data`
(`[tool.setuptools.package-dir]`), so the wheel carries these files inside the package and
`eicontract.contract.contracts_dir()` finds them the same way in a wheel, an editable install or a
checkout. One copy, never two.
"""
