"""Production WSGI entry: ``waitress-serve --host 0.0.0.0 --port 8050 app.wsgi:application``.

Configuration by environment: ``TWIN_DIR`` (twin directory), ``TWIN_RUNS`` (run store,
optional), ``TWIN_TOKEN`` (required: the viewer is exposed), ``TWIN_LANG`` (fr or en).
"""

import os

from twin.viewer.server import make_app

application = make_app(
    os.environ["TWIN_DIR"],
    os.environ.get("TWIN_RUNS"),
    host="0.0.0.0",
    token=os.environ.get("TWIN_TOKEN"),
    lang=os.environ.get("TWIN_LANG", "fr"),
).server
