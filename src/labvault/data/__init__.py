"""The lab's data conventions on top of the workspace: names, project layout, provenance cards.

Glossary:
    kind        what a name names: a ``dataset`` file, a ``model`` file or an ``experiment`` folder
    convention  the pattern a kind's names follow (``labvault-names.yaml``/``.toml`` may replace one)
    violation   a name that breaks its convention, with the parts that are wrong and a suggested name
    template    a project layout that ``scaffold`` lays out (``ai-lab``: the lab guide's structure)
    card        a dataset's ``README.md`` whose YAML front matter records its provenance (name,
                version, source, downloaded, license, description, preprocessing)
"""
