"""The archive: the only package that knows the SQL schema.

- `archive.schema`: tables as sqlite-utils migrations (applied when a file is opened);
- `archive.store`: `Archive`, the one writer (batches in one transaction, versions, renames,
  reaction history, raw pages, crawls, rejects, `mark_gone`);
- `archive.queries`: read-only questions (`review_hashes`, `stats`, `iter_export`, feed history);
- `archive.hashing`: `content_hash` (text + rating: what makes a version);
- `archive.metadata`: Datasette metadata (descriptions, search, facets, canned queries).
"""
