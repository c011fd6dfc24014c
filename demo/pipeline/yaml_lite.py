"""Reads the two-level params.yaml of the demo (section: / key: value) with the standard library."""


def _value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip("'\"")


def load(path):
    data, section = {}, None
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.strip().partition(":")
        if not line.startswith(" "):
            section = data.setdefault(key, {})
        elif section is not None:
            section[key] = _value(value.strip())
    return data
