"""The dashboard server: a second thin adapter over ``labvault.api``, beside the command line.

Glossary:
    settings   what one server shows and how it guards it (``app.Settings``)
    user       a person with a role (viewer < editor < admin), a password and/or API tokens
    session    a signed cookie naming a signed-in user, with the CSRF token of its forms
    token      an API token, sent as ``Authorization: Bearer lv_...``
    reader     the unix principal a user stands for; its access grants filter what it sees
    page       one bounded slice of a list, with an opaque cursor to the next (``api.browse``)

``labvault serve`` builds the application with ``app.create_app`` and runs it with uvicorn.
"""
