"""Content-addressed storage in DVC 3.x's layout.

Glossary:
    oid       an object id: the md5 hex digest of a file's bytes, or of a manifest plus ``.dir``
    object    a file stored under its oid in an object store
    manifest  a ``.dir`` object: the sorted JSON list of ``{"md5", "relpath"}`` of a directory's files
    odb       an object database (a folder laid out as ``files/md5/XX/YYYY...``)
    legacy    DVC 2.x objects: md5 after CRLF->LF on text blocks, stored at ``XX/YYYY...``
"""
