"""The change list of an import: every row it creates or changes, with its values before and after.

``apply.apply_plan`` records into a ``ChangeLog`` as it writes. The same list serves three ends:

- the dry run: the plan is applied inside a transaction that is then rolled back, so what the
  check shows is exactly what the write would do (the same code, not a second opinion);
- the confirmation: the write records the list again and compares its ``fingerprint`` with the
  one the user saw; a different one (someone changed the data meanwhile) rolls back;
- the undo: the list is kept as ``ImportChange`` rows and read back in reverse.

A created row is keyed by what names it (a path, an address, a grid code), not by its id: the
ids of a rolled-back dry run are not the ids of the write.
"""

import hashlib
import json
from dataclasses import dataclass, field

from ..models import ImportChange

Kind = ImportChange.Kind
Operation = ImportChange.Operation


@dataclass
class Change:
    kind: str
    operation: str
    object_id: int
    key: str  # what names the row: "社区/小区/楼栋", "楼栋 id|单元|门牌号", "社区|网格编码", …
    sheet: str = ""
    row: int | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    def identity(self) -> list:
        """What the fingerprint covers: the same change in a dry run and in the write."""
        object_id = self.object_id if self.operation == Operation.UPDATED else None
        before = {name: value for name, value in self.before.items() if not name.startswith("_")}
        after = {name: value for name, value in self.after.items() if not name.startswith("_")}
        return [self.kind, self.operation, object_id, self.key, before, after]


class ChangeLog:
    def __init__(self):
        self.changes: list[Change] = []
        self.notes: list[dict] = []  # what the write found worth saying beyond the changes

    def add(self, kind, operation, object_id, key, *, sheet="", row=None, before=None, after=None) -> Change:
        change = Change(str(kind), str(operation), int(object_id), key, sheet, row, before or {}, after or {})
        self.changes.append(change)
        return change

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self):
        return iter(self.changes)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for change in self.changes:
            digest.update(json.dumps(change.identity(), sort_keys=True, ensure_ascii=False, default=str).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def save(self, job) -> int:
        """Keep the list as ImportChange rows of ``job`` (in the write's transaction)."""
        rows = [
            ImportChange(
                job=job,
                seq=index,
                kind=change.kind,
                operation=change.operation,
                object_id=change.object_id,
                before={**change.before, "_key": change.key, "_sheet": change.sheet, "_row": change.row},
                after=change.after,
            )
            for index, change in enumerate(self.changes)
        ]
        ImportChange.objects.bulk_create(rows, batch_size=2_000)
        return len(rows)


def changes_of(job) -> list[Change]:
    """The change list an applied job kept, in the order it was written."""
    result = []
    for stored in ImportChange.objects.filter(job=job).order_by("seq").iterator(chunk_size=2_000):
        before = dict(stored.before)
        key, sheet, row = before.pop("_key", ""), before.pop("_sheet", ""), before.pop("_row", None)
        result.append(Change(stored.kind, stored.operation, stored.object_id, key, sheet, row, before, stored.after))
    return result
