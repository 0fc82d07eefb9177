"""`eicontract drift`: how far the bundled contract is from another OpenAPI document or from the wire.

- `model`: normalise an OpenAPI document (3.0 or 3.1) into operations, parameters, body schemas;
- `compare`: two documents in, `Change`s out, each marked breaking or not (the rule is there);
- `wire`: responses recorded by `eicontract run --record DIR` against the contract's schemas;
- `report`: text and JSON, and a baseline of known drift;
- `command`: the CLI (the only module that touches files and URLs).
"""

from eicontract.drift.command import add_arguments, main
from eicontract.drift.compare import Area, Change, Kind, compare_documents
from eicontract.drift.report import Report, render_text
from eicontract.drift.wire import Exchange, compare_exchanges, load_exchanges

__all__ = ["Area", "Change", "Exchange", "Kind", "Report", "add_arguments", "compare_documents",
           "compare_exchanges", "load_exchanges", "main", "render_text"]
