"""Remote storage: local folders and NFS mounts, S3 (and S3-compatible servers), GCS, Azure Blob.

Glossary:
    backend   a key/value view of one storage location (``file://``, ``s3://``, ``gs://``,
              ``azure://``): list, exists, put, get, delete; every put is atomic
    remote    a named backend from the config (``['remote "name"']``) holding objects in DVC's
              layout: ``<url>/files/md5/XX/YYYY...``
    transfer  moving a set of objects between the cache and a remote, in parallel, verified
"""
