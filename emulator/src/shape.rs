//! The exact shapes of a secret task update; anything else is a 400.

use miniserde::json::{self, Value};

fn keys(o: &json::Object) -> Vec<&str> {
    let mut k: Vec<&str> = o.keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn string<'a>(o: &'a json::Object, key: &str) -> Result<&'a str, String> {
    match o.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(format!("`{key}` must be a non-empty string")),
    }
}

/// Checks a task update body; the error says what is wrong.
pub fn check_task_body(body: &str) -> Result<(), String> {
    let v: Value = json::from_str(body).map_err(|_| String::from("the body is not JSON"))?;
    let Value::Object(o) = v else {
        return Err(String::from("the body must be a JSON object"));
    };
    match string(&o, "status")? {
        "credentials_created" => {
            if keys(&o) != ["credentials", "status"] {
                return Err(format!(
                    "a credentials_created body has exactly `status` and `credentials`, got {:?}",
                    keys(&o)
                ));
            }
            let Some(Value::Object(c)) = o.get("credentials") else {
                return Err(String::from("`credentials` must be an object"));
            };
            if keys(c) != ["id", "payload"] {
                return Err(format!(
                    "`credentials` has exactly `id` and `payload`, got {:?}",
                    keys(c)
                ));
            }
            string(c, "id")?;
            let Some(Value::Object(p)) = c.get("payload") else {
                return Err(String::from("`credentials.payload` must be an object"));
            };
            for (k, v) in p.iter() {
                if !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                    return Err(format!("payload value `{k}` must be a string, integer or boolean"));
                }
                if let Value::Number(json::Number::F64(_)) = v {
                    return Err(format!("payload value `{k}` must be an integer"));
                }
            }
            Ok(())
        }
        "credentials_deleted" => {
            if keys(&o) != ["status"] {
                return Err(format!(
                    "a credentials_deleted body has exactly `status`, got {:?}",
                    keys(&o)
                ));
            }
            Ok(())
        }
        "failed" => {
            if keys(&o) != ["errors", "status"] {
                return Err(format!(
                    "a failed body has exactly `status` and `errors`, got {:?}",
                    keys(&o)
                ));
            }
            let Some(Value::Array(errors)) = o.get("errors") else {
                return Err(String::from("`errors` must be an array"));
            };
            if errors.is_empty() {
                return Err(String::from("`errors` must not be empty"));
            }
            for e in errors {
                let Value::Object(e) = e else {
                    return Err(String::from("each error must be an object"));
                };
                if keys(e) != ["code", "description"] {
                    return Err(format!(
                        "each error has exactly `code` and `description`, got {:?}",
                        keys(e)
                    ));
                }
                string(e, "code")?;
                string(e, "description")?;
            }
            Ok(())
        }
        other => Err(format!("unknown status `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(
            check_task_body(
                r#"{"status":"credentials_created","credentials":{"id":"x","payload":{"a":"b","n":1,"t":true}}}"#
            )
            .is_ok()
        );
        assert!(check_task_body(r#"{"status":"credentials_deleted"}"#).is_ok());
        assert!(check_task_body(r#"{"status":"failed","errors":[{"code":"E","description":"d"}]}"#).is_ok());
        for bad in [
            r#"{"status":"credentials_created","credentials":{"id":"x"}}"#,
            r#"{"status":"credentials_created","credentials":{"id":"x","payload":{}},"extra":1}"#,
            r#"{"status":"credentials_created","credentials":{"id":"x","payload":{"f":1.5}}}"#,
            r#"{"status":"credentials_deleted","credentials":{}}"#,
            r#"{"status":"failed","errors":[]}"#,
            r#"{"status":"failed","errors":[{"code":"E"}]}"#,
            r#"{"status":"done"}"#,
            "nope",
        ] {
            assert!(check_task_body(bad).is_err(), "{bad}");
        }
    }
}
