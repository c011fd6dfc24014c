from tests.remote_support import remote_target  # noqa: F401  (the fixture, parametrized over every backend)
