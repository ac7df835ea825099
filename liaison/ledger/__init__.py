"""The pairing ledger (包联台账) in Excel, out and in: the cadre tier of the pairing, one row per pairing.

- ``layout.py``: the sheet and its columns (工作组 / 包联干部 / 楼栋 / 居民户 / 起始日期 / 结束日期), one
  definition for the export, the template and the import;
- ``exporting.py``: the export, a background export of core.exports (kind ``pairing_ledger``), and
  the template;
- ``validation.py``: a workbook read by grid's safe streaming reader (grid.importing.reader, its caps
  and notes) checked against the team's pairings: every bad cell with its sheet, row and column, and
  the plan (pairings to create, to end, rows unchanged) with its fingerprint;
- ``jobs.py``: the import as a job (``LedgerImportJob``): checked first (the plan is the preview and
  nothing is written), written only when the uploader confirms, through liaison.services in one
  transaction that refuses when the plan is no longer the one shown.
"""
