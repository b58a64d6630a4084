"""The browser app (``influence-sim app``): explore a scenario live, save a what-if, browse a store.

A front end of its own above the command line (docs/architecture.md): it imports the
library, and the library never imports it. Solara is an optional extra
(``pip install 'influence-sim[app]'``); only `pages` imports it, so the plain-Python modules
here (`whatif`, `engine`, `config`) import and test without it:

- `whatif`: the edits of a scenario (parameters; events switched off, moved or rescaled) and
  the counterfactual TOML that reproduces them (`WhatIf.toml`);
- `engine`: runs an ensemble with progress reports, pairs the what-if with the unedited
  scenario (a `ResultSource` of two scenarios) and computes the paired effects;
- `config`: what the command line hands the server (scenario or results store, seed,
  replicates), through environment variables;
- `pages`: the Solara pages (explore, step one replicate, browse a results store).

See docs/app.md.
"""
