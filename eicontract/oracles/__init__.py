"""Pure oracles: decoded request data in, violations (and observations) out.

One module per idea: ``envelope`` (failure envelope, auth), ``jobs`` (result versus job,
job status), ``window`` (sliding-window results), ``paging``, ``filters`` and ``options``
(truncateStructuredLabels, model variant). None of them performs I/O, reads the clock or
raises on a malformed body: a malformed body is a violation of the clause it defeats.
"""
