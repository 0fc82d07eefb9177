"""The gate's proof tools: what shows the gate catches what it should and nothing else.

- killmatrix: the quick gate against every fault and legal variant of the reference server
  (`eicontract mutants`, docs/KILL-MATRIX.md);
- mutation: cosmic-ray mutants of the reference server against the quick gate
  (`eicontract mutation`, docs/MUTATION.md).
"""
