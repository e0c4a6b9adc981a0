#!/usr/bin/env bash
# The whole story on the local sandbox, in under a minute:
#   plan -> apply of that plan -> a clean re-plan -> a release (champion moves to v3) -> `git revert` of that
#   release -> the plan of the rollback -> apply it -> clean again.
# It works on a copy of the example project in a temporary git repository, so this working
# tree stays untouched (and `git revert` is a real revert).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
BIN=${RECONCILER:-$REPO/.venv/bin/reconciler}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/reconciler-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Keep the demo's own settings: no real workspace, nothing ambient.
unset DATABRICKS_HOST DATABRICKS_TOKEN DATABRICKS_CONFIG_PROFILE DATABRICKS_CLIENT_ID \
  DATABRICKS_CLIENT_SECRET 2>/dev/null || true
git() { command git -C "$WORK" -c user.name=demo -c user.email=demo@example.com "$@"; }
r() { "$BIN" --project "$WORK" "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
expect_plan() { # show the plan; its --detailed-exitcode must be $1
  local rc=0
  r plan --detailed-exitcode || rc=$?
  echo "plan --detailed-exitcode -> exit $rc ($2)"
  [ "$rc" = "$1" ]
}

step "A copy of the example project in a scratch git repository: $WORK"
cp "$REPO/reconciler.yaml" "$WORK/"
cp -R "$REPO/manifests" "$WORK/manifests"
[ -d "$REPO/schemas" ] && cp -R "$REPO/schemas" "$WORK/schemas"
printf '.reconciler/\n' >"$WORK/.gitignore"
git init -q
git add -A
git commit -qm "Support assistant: models, serving, vector search, quotas"

step "Fresh sandbox; the training pipeline registers model versions"
r sandbox reset
r sandbox seed

step "reconciler validate (offline)"
r validate

step "reconciler plan -o plan.json (what a pull request shows)"
r plan -o "$WORK/plan.json"

step "reconciler apply plan.json (what the merge runs: exactly the reviewed plan)"
r apply "$WORK/plan.json"

step "Re-plan: the workspace matches the manifests"
expect_plan 0 "no changes"

step "Release: a pull request promotes intent_classifier v3 to champion; merged and applied"
sed -i.bak 's/champion: {version: 2, approval: CHG-2187}/champion: {version: 3, approval: CHG-2301}/' \
  "$WORK/manifests/models.yaml"
rm -f "$WORK/manifests/models.yaml.bak"
git commit -qam "Promote intent_classifier v3 to champion (CHG-2301)"
git log --oneline -1
r apply --auto-approve

step "Rollback: git revert of the release commit"
git revert --no-edit HEAD >/dev/null
git log --oneline -1
git show --stat --format= HEAD

step "The plan of the rollback: champion goes back to v2"
expect_plan 2 "changes to apply"

step "Apply the rollback, then re-plan"
r apply --auto-approve
expect_plan 0 "no changes"

step "Done: plan, apply, clean re-plan, release, revert, rollback applied."
