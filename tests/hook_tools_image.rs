//! A hook that calls an HTTPS API with `credhook http` and turns the reply
//! into outputs with `credhook json out`, inside the image root (only what
//! `scripts/rootfs.sh` puts there: busybox, `/bin/credhook`, no /etc/ssl),
//! started by `credhook run` the way a container runtime would.

#[path = "support/https.rs"]
mod https;
mod support;

use https::{Server, reply};
use std::path::Path;
use support::root::{exec_in_root, require_chroot, rootfs};
use support::{API_KEY, SECRET_ID, World, field};

const ADMIN_TOKEN: &str = "admin-Zm9vYmFyYmF6-55555";
const NEW_TOKEN: &str = "new-token-cXV1eHF1dXg-77777";

const HOOK: &str = r#"#!/bin/sh
set -eu
case "$1" in
create)
  reply=$(credhook http POST "$API/tokens" -H 'Authorization: Bearer {{ADMIN_TOKEN}}' \
            --json "$(credhook json build 'team={{SMIN_TEAM}}' 'ttl:=30')")
  printf %s "$reply" | credhook json out id=.id token=.token >&3
  ;;
delete)
  credhook http DELETE "$API/tokens/$SM_CREDENTIALS_ID" --ok 404 \
    -H 'Authorization: Bearer {{ADMIN_TOKEN}}' > /dev/null
  ;;
esac
"#;

fn run_in_root(w: &World, root: &Path, env: &[(&str, &str)]) -> support::Run {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    w.finish(exec_in_root(root, &env, &["/credhook", "run"]))
}

#[test]
#[ignore = "needs root and mount namespaces"]
fn a_hook_in_the_image_root_calls_an_https_api_with_credhook_http_and_json() {
    require_chroot();
    let api = Server::https(|r, _| {
        if r.header("authorization") != Some(&format!("Bearer {ADMIN_TOKEN}")) {
            return reply(401, "{\"message\":\"bad token\"}");
        }
        match (r.method.as_str(), r.target.as_str()) {
            ("POST", "/tokens") if r.body == b"{\"team\":\"infra\",\"ttl\":30}" => {
                reply(201, &format!("{{\"id\":\"tk-1\",\"token\":\"{NEW_TOKEN}\"}}"))
            }
            ("DELETE", "/tokens/tk-1") => reply(204, ""),
            _ => reply(400, "{\"message\":\"unexpected request\"}"),
        }
    });
    let mut w = World::new();
    w.secret(ADMIN_TOKEN).secret(NEW_TOKEN);
    let root = w.dir.join("rootfs");
    let hook = w.dir.join("api-hook.sh");
    std::fs::write(&hook, HOOK).unwrap();
    let out = rootfs(&[root.as_os_str(), hook.as_os_str()]);
    assert!(out.status.success(), "rootfs.sh failed");
    assert!(!root.join("etc/ssl").exists());
    std::fs::copy(w.emu.ca_file().unwrap(), root.join("tmp/sm-ca.pem")).unwrap();
    std::fs::write(root.join("tmp/api-ca.pem"), &api.pki.as_ref().unwrap().ca_pem).unwrap();
    let (sm, api_url) = (w.emu.url(), api.url());
    let common: Vec<(&str, &str)> = vec![
        ("SM_INSTANCE_URL", &sm),
        ("CREDHOOK_IAM_URL", &sm),
        ("CREDHOOK_CA_FILE", "/tmp/sm-ca.pem"),
        // Reaches the hook unchanged: credhook http trusts it.
        ("SSL_CERT_FILE", "/tmp/api-ca.pem"),
        ("API", &api_url),
        ("ADMIN_TOKEN", ADMIN_TOKEN),
        ("SM_SECRET_ID", SECRET_ID),
        ("SM_ACCESS_APIKEY", API_KEY),
        ("SMIN_TEAM", "type:string, required:true"),
        ("SM_TEAM_VALUE", "infra"),
        ("SMOUT_TOKEN", "type:string, required:true"),
    ];
    let mut create = common.clone();
    create.extend([("SM_ACTION", "create_credentials"), ("SM_SECRET_TASK_ID", "t-create")]);
    let r = run_in_root(&w, &root, &create);
    r.assert_code(0);
    let body = r.update().json();
    let creds = match &body {
        miniserde::json::Value::Object(o) => o.get("credentials").cloned().unwrap(),
        _ => panic!("{r}"),
    };
    assert_eq!(field(&creds, "id"), "tk-1", "{r}");
    let payload = match &creds {
        miniserde::json::Value::Object(o) => o.get("payload").cloned().unwrap(),
        _ => panic!("{r}"),
    };
    assert_eq!(field(&payload, "token"), NEW_TOKEN);

    let mut delete = common.clone();
    delete.extend([
        ("SM_ACTION", "delete_credentials"),
        ("SM_SECRET_TASK_ID", "t-delete"),
        ("SM_CREDENTIALS_ID", "tk-1"),
    ]);
    let r = run_in_root(&w, &root, &delete);
    r.assert_code(0);
    assert_eq!(r.updates.last().unwrap().status(), "credentials_deleted", "{r}");
    let methods: Vec<String> = api
        .requests()
        .iter()
        .map(|q| format!("{} {}", q.method, q.target))
        .collect();
    assert_eq!(methods, ["POST /tokens", "DELETE /tokens/tk-1"]);
}
