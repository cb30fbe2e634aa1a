#!/bin/sh
# credhook hook: GitLab project access tokens, examples/gitlab/.
#
# Inputs (job_config.json):
#   SMIN_LOGIN_SECRET_ID  secret_id, required: an arbitrary secret whose payload
#                         is a GitLab token allowed to create project access
#                         tokens (Maintainer or Owner, api scope); a custom
#                         credentials secret's "token" also works
#   SMIN_GITLAB_URL       required: e.g. https://gitlab.com
#   SMIN_PROJECT_ID       required: numeric id or path (group/project)
#   SMIN_SCOPES           required: comma-separated, e.g. read_api,read_repository
#   SMIN_ACCESS_LEVEL     10|15|20|30|40|50 (GitLab's default is 40, Maintainer)
#   SMIN_EXPIRES_IN_DAYS  1-365, default 30: the token expires at that UTC date
# Output: SMOUT_TOKEN; the credentials id is GitLab's token id.
#
# create: POST {gitlab}/api/v4/projects/{project}/access_tokens, named
#         <secret name>-<last 6 of the task id>.
# delete: DELETE {gitlab}/api/v4/projects/{project}/access_tokens/{id}; 204,
#         and GitLab's 404 "Could not find project access token" is already
#         gone (a 404 for the project is GITLAB_NOT_FOUND). The delete uses the
#         project_id the secret has at that time.
# Secrets stay off command lines: credhook http reads {{GITLAB_ADMIN_TOKEN}}
# from the environment, and bodies go through stdin.
set -fu
P=GITLAB
VENDOR=GitLab
LOGIN=login_secret_id
ERR_PATH=.message
HINT_404="check gitlab_url and project_id (the token in login_secret_id must see the project)"
SCOPES=" api read_api read_registry write_registry read_repository write_repository create_runner manage_runner ai_features k8s_proxy self_rotate "

# The shared helpers (fail, call, emit, …): in the image at
# /etc/credhook/provider.sh (scripts/rootfs.sh puts them there), in a checkout
# beside this directory as examples/common.sh.
for c_lib in /etc/credhook/provider.sh "$(dirname -- "$0")/../common.sh"; do
    if [ -r "$c_lib" ]; then
        . "$c_lib"
        break
    fi
done
command -v fail >/dev/null 2>&1 || {
    echo "the provider helpers are missing: build the image with scripts/rootfs.sh" >&2
    exit 3
}

# --- inputs, all checked before any call
base=${SMIN_GITLAB_URL:-}
while [ "${base%/}" != "$base" ]; do base=${base%/}; done
need_url gitlab_url "$base"

if [ -n "${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}" ]; then
    GITLAB_ADMIN_TOKEN=${SMIN_LOGIN_SECRET_ID_PAYLOAD%"$nl"}
elif [ -n "${SMIN_LOGIN_SECRET_ID_CREDENTIALS:-}" ]; then
    GITLAB_ADMIN_TOKEN=$(printf %s "$SMIN_LOGIN_SECRET_ID_CREDENTIALS" | credhook json get .token 2>/dev/null) ||
        fail GITLAB_BAD_LOGIN_SECRET "the custom credentials secret in login_secret_id has no token"
else
    fail GITLAB_NO_LOGIN_SECRET "login_secret_id must name an arbitrary secret holding a GitLab access token; got type ${SMIN_LOGIN_SECRET_ID_TYPE:-none}"
fi
need_token "the secret in login_secret_id" "$GITLAB_ADMIN_TOKEN"
export GITLAB_ADMIN_TOKEN

project=${SMIN_PROJECT_ID:-}
case $project in
"") fail GITLAB_BAD_INPUT "project_id is required: the project's numeric id or its path, group/project" ;;
/* | */ | *//* | *[!A-Za-z0-9_./-]* | . | .. | ./* | ../* | */. | */.. | */./* | */../*)
    fail GITLAB_BAD_INPUT "project_id must be a numeric id or a path like group/project (no . or .. parts)"
    ;;
esac
# A path goes into the URL with each / as %2F, as GitLab documents.
enc=
rest=$project
while case $rest in */*) true ;; *) false ;; esac; do
    enc="$enc${rest%%/*}%2F"
    rest=${rest#*/}
done
tokens="$base/api/v4/projects/$enc$rest/access_tokens"

case ${1:-} in
create)
    scopes=
    old_ifs=$IFS
    IFS=,
    list=$(printf %s "${SMIN_SCOPES:-}" | tr -d ' \t')
    for s in $list; do
        [ -n "$s" ] || continue
        case $SCOPES in
        *" $s "*) scopes="$scopes${scopes:+,}\"$s\"" ;;
        *) fail GITLAB_BAD_INPUT "scopes: \"$s\" is not a GitLab scope; use some of:$SCOPES" ;;
        esac
    done
    IFS=$old_ifs
    [ -n "$scopes" ] || fail GITLAB_BAD_INPUT "scopes is required: a comma-separated list such as read_api,read_repository"
    level=${SMIN_ACCESS_LEVEL:-}
    case $level in
    "" | 10 | 15 | 20 | 30 | 40 | 50) ;;
    *) fail GITLAB_BAD_INPUT "access_level must be 10, 15, 20, 30, 40 or 50" ;;
    esac
    days=${SMIN_EXPIRES_IN_DAYS:-30}
    days=${days#+}
    while case $days in 0?*) true ;; *) false ;; esac; do days=${days#0}; done
    case $days in
    "" | *[!0-9]* | 0) fail GITLAB_BAD_INPUT "expires_in_days must be a whole number of days from 1 to 365" ;;
    esac
    [ "${#days}" -le 3 ] && [ "$days" -le 365 ] || fail GITLAB_BAD_INPUT "expires_in_days must be a whole number of days from 1 to 365"
    expires=$(date -u -d "@$(($(date +%s) + days * 86400))" +%Y-%m-%d) ||
        fail GITLAB_HOOK_ERROR "date could not compute the expiry date"
    task=${SM_SECRET_TASK_ID:-task}
    while [ "${#task}" -gt 6 ]; do task=${task#?}; done
    TOKEN_NAME="${SM_SECRET_NAME:-credhook}-$task"
    TOKEN_DESCRIPTION="Secrets Manager secret ${SM_SECRET_NAME:-?} (${SM_SECRET_ID:-?}), task ${SM_SECRET_TASK_ID:-?}, created by credhook"
    export TOKEN_NAME TOKEN_DESCRIPTION

    payload=$(credhook json build 'name={{TOKEN_NAME}}' "scopes:=[$scopes]" \
        ${level:+"access_level:=$level"} "expires_at=$expires" 'description={{TOKEN_DESCRIPTION}}') ||
        fail GITLAB_HOOK_ERROR "credhook json build failed; the job log has its message"
    # Never retried: a second POST would make a second token.
    call POST "$tokens" -H 'PRIVATE-TOKEN: {{GITLAB_ADMIN_TOKEN}}' --json @- <<BODY
$payload
BODY
    case $status in 2??) ;; *) api_failed "creating the project access token" ;; esac
    LEFT="a project access token named $TOKEN_NAME in project $project"
    emit .id token=.token
    ;;
delete)
    id=${SM_CREDENTIALS_ID:-}
    case $id in "" | *[!0-9]*) fail GITLAB_BAD_CREDENTIALS_ID "the credentials id must be GitLab's numeric token id" ;; esac
    call DELETE "$tokens/$id" -H 'PRIVATE-TOKEN: {{GITLAB_ADMIN_TOKEN}}'
    # Already gone: GitLab's "Could not find project access token with
    # token_id: N"; a 404 for the project (renamed, moved, no access) is not.
    if gone .message '*access token with token_id*'; then
        echo "project access token $id was already gone"
        exit 0
    fi
    case $status in
    2??) echo "revoked project access token $id" ;;
    *) api_failed "revoking project access token $id" ;;
    esac
    ;;
*) fail GITLAB_BAD_ACTION "the hook's argument must be create or delete" ;;
esac
