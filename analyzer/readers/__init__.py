"""Readers: the bytes of one export file → records, one module per format; `dispatch.open_export` picks the
reader by content. Kept free of imports so that using one reader does not load the others' libraries."""
