"""The static files storage: WhiteNoise's hashed, compressed files, with the paths in JavaScript
module imports rewritten to the hashed names."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    # A page loads js/builder.<hash>.js; left alone, its `from "./util.js"` would load the
    # unhashed file, which browsers cache without a new name when it changes. With this on,
    # collectstatic rewrites `import ... from "./x.js";`, `export ... from "./x.js";`,
    # `import "./x.js";` and `import("./x.js")` (relative paths, statements ending with ";"),
    # as it rewrites url() in CSS. Its patterns are regular expressions over the whole file,
    # comments and strings included: the words import and export in a comment above a module's
    # imports get taken for a statement. tests/pages/test_static_files.py checks what was collected.
    support_js_module_import_aggregation = True
