//! The request edge: rules every request of every service passes before a handler sees it.
//!
//! One rule in one place instead of a check per field:
//! - headers larger than [`MAX_HEADER_BYTES`] in total: 431;
//! - a body larger than `MAX_BODY_BYTES` (default [`DEFAULT_MAX_BODY_BYTES`]): 413, refused on
//!   `Content-Length` alone or after reading at most one byte past the limit, never read whole;
//! - a control character ([`is_forbidden_char`]) in a query parameter: 400; in any string
//!   (value or key) of a JSON body: 422 naming the field. PostgreSQL refuses NUL in `text`,
//!   and no field of the shop has a use for the others;
//! - a 405 carries the `Allow` header, listing the methods the path does have.
//!
//! Every refusal is an RFC 9457 problem body. [`document_text_rule`] writes the same rule into
//! the OpenAPI spec, so clients and fuzzers know it.

use std::{collections::BTreeSet, sync::Arc};

use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};
use serde_json::Value;

use crate::problem::{ApiError, FieldError, PROBLEM_CONTENT_TYPE, problem_response};

/// Body size limit when `MAX_BODY_BYTES` is unset: far above any request of the shop's APIs.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest total size of the request headers (names and values) accepted.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What a client whose headers are too large is told, whether the edge refuses them or hyper
/// does (beyond its read buffer, see [`crate::head_replies`]): one refusal, one wording.
pub fn headers_too_large_detail() -> String {
    format!("the request head is too large; the headers may total at most {} KiB", MAX_HEADER_BYTES / 1024)
}

/// The regular expression (ECMA and Python compatible) every free-text string of the specs
/// carries: no control character other than tab, line feed and carriage return.
pub const TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// [`TEXT_PATTERN`] for a field that must hold something other than white space.
pub const NON_BLANK_TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// Whether `c` may not appear in any string the shop accepts: control characters other than
/// tab, line feed and carriage return (which multi-line descriptions legitimately contain).
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The error message for a string with a forbidden character.
const CONTROL_MESSAGE: &str = "must not contain control characters (such as NUL)";

/// The body limit from `MAX_BODY_BYTES` (bytes), or the default. Checked at start-up by
/// [`crate::config::CommonConfig::from_env`], so a bad value never gets here.
pub fn max_body_bytes() -> usize {
    crate::config::parse_or("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES).unwrap_or(DEFAULT_MAX_BODY_BYTES)
}

/// The edge rules as a poem middleware, over the service's spec: its path templates and
/// methods give the `Allow` header, its request schemas say which strings the service reads.
pub struct EdgeRules {
    max_body: usize,
    spec: Arc<Value>,
    paths: Arc<Vec<(String, BTreeSet<String>)>>,
}

impl EdgeRules {
    /// Rules with a body limit, for the API described by `spec`.
    pub fn new(max_body: usize, spec: Value) -> Self {
        let paths = served_paths(&spec);
        Self { max_body, spec: Arc::new(spec), paths: Arc::new(paths) }
    }
}

impl<E: Endpoint> Middleware<E> for EdgeRules {
    type Output = EdgeEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        EdgeEndpoint { inner, max_body: self.max_body, spec: self.spec.clone(), paths: self.paths.clone() }
    }
}

/// The endpoint produced by [`EdgeRules`].
pub struct EdgeEndpoint<E> {
    inner: E,
    max_body: usize,
    spec: Arc<Value>,
    paths: Arc<Vec<(String, BTreeSet<String>)>>,
}

impl<E: Endpoint> Endpoint for EdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if let Err(refusal) = self.check(&mut req).await {
            return Ok(refusal);
        }
        let path = req.uri().path().to_owned();
        let mut response = match self.inner.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => match self.explain(&err, &path) {
                Some(mut resp) => {
                    if let Some(pattern) = err.data::<poem::PathPattern>() {
                        resp.set_data(pattern.clone());
                    }
                    if let Some(operation) = err.data::<poem_openapi::OperationId>() {
                        resp.set_data(*operation);
                    }
                    resp
                }
                None => return Err(err),
            },
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = allowed_methods(&self.paths, &path)
            && let Ok(value) = HeaderValue::from_str(&allow)
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        Ok(response)
    }
}

impl<E> EdgeEndpoint<E> {
    /// A clearer answer than the framework's for the errors whose default text misleads:
    /// 405 (a problem body), a missing bearer token ("authorization error"), and a bad path
    /// parameter (named `param0` by poem-openapi: here by its name in the spec).
    fn explain(&self, err: &poem::Error, path: &str) -> Option<Response> {
        if err.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Some(problem_response(StatusCode::METHOD_NOT_ALLOWED, "this method is not allowed on this path"));
        }
        if err.is::<poem_openapi::error::AuthorizationError>() {
            let mut resp = problem_response(
                StatusCode::UNAUTHORIZED,
                "the Authorization header with a Bearer token is missing; log in to get a token",
            );
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Some(resp);
        }
        let bad_path = err.downcast_ref::<poem_openapi::error::ParsePathError>()?;
        let index: usize = bad_path.name.strip_prefix("param")?.parse().ok()?;
        let template = self.paths.iter().find(|(t, _)| path_matches(t, path))?;
        let name = template.0.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).nth(index)?;
        Some(problem_response(
            StatusCode::BAD_REQUEST,
            format!("path parameter `{name}` is invalid: {}", bad_path.reason),
        ))
    }

    /// Applies the rules; `Err` is the refusal to send.
    async fn check(&self, req: &mut Request) -> Result<(), Response> {
        let header_bytes: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
        if header_bytes > MAX_HEADER_BYTES {
            return Err(problem_response(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, headers_too_large_detail()));
        }
        if let Ok(params) = req.params::<Vec<(String, String)>>()
            && let Some((name, _)) = params.iter().find(|(k, v)| has_forbidden_char(k) || has_forbidden_char(v))
        {
            return Err(problem_response(
                StatusCode::BAD_REQUEST,
                format!("query parameter `{name}` {CONTROL_MESSAGE}"),
            ));
        }
        let too_large = || {
            problem_response(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body exceeds {} bytes", self.max_body))
        };
        let declared: Option<usize> =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        if declared.is_some_and(|len| len > self.max_body) {
            return Err(too_large());
        }
        let bytes = match req.take_body().into_bytes_limit(self.max_body).await {
            Ok(bytes) => bytes,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => return Err(too_large()),
            Err(err) => return Err(problem_response(StatusCode::BAD_REQUEST, format!("cannot read the body: {err}"))),
        };
        let is_json = req.content_type().is_some_and(|ct| ct.contains("json"));
        if is_json
            && let Some(schema) = self.body_schema(req.method(), req.uri().path())
            && let Ok(value) = serde_json::from_slice::<Value>(&bytes)
            && let Some((field, message)) = bad_string(&self.spec, schema, &value, String::new())
        {
            // The name is echoed escaped: a response carries no control character either.
            let field: String = field
                .chars()
                .map(|c| if is_forbidden_char(c) { c.escape_unicode().to_string() } else { c.to_string() })
                .collect();
            return Err(ApiError::validation(vec![FieldError::new(field, message)]).into_response());
        }
        req.set_body(bytes);
        Ok(())
    }
}

impl<E> EdgeEndpoint<E> {
    /// The JSON schema of the request body of the operation at `method` `path`, if it has one.
    fn body_schema(&self, method: &Method, path: &str) -> Option<&Value> {
        let (template, _) = self.paths.iter().find(|(t, _)| path_matches(t, path))?;
        let operation = self.spec.get("paths")?.get(template)?.get(method.as_str().to_ascii_lowercase())?;
        let content = operation.get("requestBody")?.get("content")?.as_object()?;
        content.values().next()?.get("schema")
    }
}

/// Follows `$ref` (and the one-element `allOf` poem-openapi writes around a described `$ref`).
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        return spec.pointer(target).map(|s| resolve(spec, s)).unwrap_or(schema);
    }
    match schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => resolve(spec, only),
        _ => schema,
    }
}

/// The first string the service reads from `value` (a property its schema names, an item of an
/// array it names) that holds a forbidden character, or a non-string where a string is due, or
/// a `null` the schema does not allow, with its path (`items[2].name`) and the message. Properties the schema does not name are
/// ignored by the service, so they are not checked either.
fn bad_string(spec: &Value, schema: &Value, value: &Value, path: String) -> Option<(String, &'static str)> {
    let schema = resolve(spec, schema);
    let named = |path: &str| if path.is_empty() { "body".to_owned() } else { path.to_owned() };
    match value {
        Value::String(s) => has_forbidden_char(s).then(|| (named(&path), CONTROL_MESSAGE)),
        Value::Array(items) => {
            let item_schema = schema.get("items")?;
            items
                .iter()
                .enumerate()
                .find_map(|(i, item)| bad_string(spec, item_schema, item, format!("{}[{i}]", named(&path))))
        }
        Value::Object(fields) => schema.get("properties")?.as_object()?.iter().find_map(|(key, sub)| {
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            bad_string(spec, sub, fields.get(key)?, child)
        }),
        // poem-openapi reads `null` as "absent"; a schema that does not say `nullable` does
        // not allow it, so the edge holds the spec's word.
        Value::Null if path.is_empty() || schema.get("nullable") == Some(&Value::Bool(true)) => None,
        Value::Null => Some((path, "must not be null; leave the field out instead")),
        _ => (schema.get("type").and_then(Value::as_str) == Some("string")).then(|| (named(&path), "must be a string")),
    }
}

fn has_forbidden_char(s: &str) -> bool {
    s.chars().any(is_forbidden_char)
}

/// Whether a request path matches a spec template such as `/products/{id}`.
fn path_matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts == ps || (ts.starts_with('{') && !ps.is_empty()) => {}
            _ => return false,
        }
    }
}

/// The `Allow` value for a request path: the methods of the first template it matches.
fn allowed_methods(paths: &[(String, BTreeSet<String>)], path: &str) -> Option<String> {
    paths
        .iter()
        .find(|(template, _)| path_matches(template, path))
        .map(|(_, methods)| methods.iter().map(|m| m.to_ascii_uppercase()).collect::<Vec<_>>().join(", "))
}

/// The path templates and methods of a spec, plus the fixed routes every service serves.
pub fn served_paths(spec: &Value) -> Vec<(String, BTreeSet<String>)> {
    let mut paths: Vec<(String, BTreeSet<String>)> = spec["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(path, ops)| (path.clone(), ops.as_object().into_iter().flatten().map(|(m, _)| m.clone()).collect()))
        .collect();
    // Fixed templates first: `/users/me` must win over `/users/{id}`.
    paths.sort_by_key(|(path, _)| path.matches('{').count());
    for fixed in ["/openapi.json", "/health/live", "/health/ready", "/metrics"] {
        paths.push((fixed.to_owned(), [Method::GET.as_str().to_ascii_lowercase()].into_iter().collect()));
    }
    paths
}

/// Writes the edge rules into a spec: the text pattern on every free-text string, and on
/// every operation the refusals the edge itself may answer (400 for any parameter, 413, 415
/// and 422 for a body), so each operation lists exactly what it can return.
pub fn document_edge_rules(spec: &mut Value) {
    let saved: Vec<(&str, Option<Value>)> = RESPONSE_ONLY_SCHEMAS
        .iter()
        .map(|name| (*name, spec.pointer(&format!("/components/schemas/{name}")).cloned()))
        .collect();
    document_text_rule(spec);
    for (name, schema) in saved {
        if let (Some(schema), Some(slot)) = (schema, spec.pointer_mut(&format!("/components/schemas/{name}"))) {
            *slot = schema;
        }
    }
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|ops| ops.values_mut()) {
        let has_security = operation.get("security").is_some();
        let has_body = operation.get("requestBody").is_some();
        let has_params = operation.get("parameters").and_then(Value::as_array).is_some_and(|p| !p.is_empty());
        let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
        let mut add = |status: u16, description: &str| {
            responses.entry(status.to_string()).or_insert_with(|| {
                serde_json::json!({
                    "description": description,
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                })
            });
        };
        if has_security {
            add(401, "No bearer token, or one that is invalid, expired or not yet valid.");
        }
        if has_params || has_body {
            add(
                400,
                "The request could not be parsed: a malformed parameter or body, or a control character in a query parameter.",
            );
        }
        if has_body {
            add(413, "The body is larger than the service accepts (`MAX_BODY_BYTES`, default 64 KiB).");
            add(415, "The body is not `application/json`.");
            add(422, "Some fields are invalid (a string with a control character, for one); `errors` lists them.");
        }
    }
}

/// Where a validation rule applies: one field or parameter, and the JSON Schema keywords
/// (`minLength`, `maximum`, `pattern`) written there so clients (and fuzzers) see what the
/// server checks. The keywords come from the same [`crate::rules`] constant the domain type's
/// `parse` checks, so a rule is stated once.
#[derive(Debug, Clone)]
pub enum SchemaRule {
    /// A property of a component schema (`NewProductBody.name`).
    Field(&'static str, &'static str, Value),
    /// A parameter of an operation, by `operationId` and name (`searchProducts`, `limit`).
    Param(&'static str, &'static str, Value),
}

/// Merges the keywords of each rule into the spec, and returns the rules that name nothing in
/// it: a typo in a service's table, which its spec test refuses
/// ([`crate::server::unmatched_schema_rules`]).
pub fn apply_schema_rules(spec: &mut Value, rules: &[SchemaRule]) -> Vec<String> {
    let mut unmatched = Vec::new();
    for rule in rules {
        let (target, keywords) = match rule {
            SchemaRule::Field(schema, field, keywords) => {
                (spec.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}")), keywords)
            }
            SchemaRule::Param(operation, name, keywords) => (find_param_schema(spec, operation, name), keywords),
        };
        // An optional field of a referenced or composite type is `allOf: [{$ref}]`: the
        // keywords go beside it.
        if let (Some(Value::Object(target)), Value::Object(keywords)) = (target, keywords) {
            for (key, value) in keywords {
                target.insert(key.clone(), value.clone());
            }
        } else {
            unmatched.push(match rule {
                SchemaRule::Field(schema, field, _) => format!("{schema}.{field}"),
                SchemaRule::Param(operation, name, _) => format!("{operation}({name})"),
            });
        }
    }
    unmatched
}

fn find_param_schema<'a>(spec: &'a mut Value, operation: &str, name: &str) -> Option<&'a mut Value> {
    let paths = spec.get_mut("paths")?.as_object_mut()?;
    let op = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
        .find(|op| op.get("operationId").and_then(Value::as_str) == Some(operation))?;
    op.get_mut("parameters")?
        .as_array_mut()?
        .iter_mut()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?
        .get_mut("schema")
}

/// Response-only schemas: they echo what the client sent (a field name), so the text rule,
/// a rule about input, is not theirs.
const RESPONSE_ONLY_SCHEMAS: [&str; 2] = ["Problem", "FieldError"];

/// Writes the text rule into a spec: every string schema without a `format`, `enum` or
/// `pattern` of its own gets [`TEXT_PATTERN`]. (A `uuid` or `date-time` cannot hold a
/// control character; an enum lists its values.)
pub fn document_text_rule(spec: &mut Value) {
    match spec {
        Value::Object(map) => {
            let plain_string = map.get("type").and_then(Value::as_str) == Some("string")
                && !map.contains_key("format")
                && !map.contains_key("enum")
                && !map.contains_key("pattern");
            if plain_string {
                map.insert("pattern".to_owned(), Value::String(TEXT_PATTERN.to_owned()));
            }
            map.values_mut().for_each(document_text_rule);
        }
        Value::Array(items) => items.iter_mut().for_each(document_text_rule),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schema_rules_land_on_their_field_and_a_typo_is_reported() {
        let mut spec = json!({"components": {"schemas": {"Body": {"properties": {"name": {"type": "string"}}}}}});
        let rules = [
            SchemaRule::Field("Body", "name", json!({"maxLength": 5})),
            SchemaRule::Field("Body", "nmae", json!({"maxLength": 5})),
            SchemaRule::Param("listThings", "limit", json!({"maximum": 5})),
        ];
        let unmatched = apply_schema_rules(&mut spec, &rules);
        assert_eq!(spec["components"]["schemas"]["Body"]["properties"]["name"]["maxLength"], 5);
        assert_eq!(unmatched, ["Body.nmae", "listThings(limit)"]);
    }

    #[test]
    fn strings_the_service_reads_are_checked_and_named_by_their_path() {
        let spec = json!({"components": {"schemas": {
            "Order": {"type": "object", "properties": {
                "name": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
            "Item": {"type": "object", "properties": {"note": {"type": "string"}}},
        }}});
        let schema = json!({"$ref": "#/components/schemas/Order"});
        let cases = [
            (json!({"name": "ok", "items": [{"note": "fine"}, {"note": "a\u{0}b"}]}), Some("items[1].note"), "nested"),
            (json!({"name": "two\nlines\tand\rreturns"}), None, "tab, LF and CR are text"),
            (json!({"name": "\u{7f}"}), Some("name"), "DEL"),
            (json!({"items": [{"note": "\u{85}"}]}), Some("items[0].note"), "a C1 control"),
            (json!({"name": false}), Some("name"), "not a string"),
            (json!({"name": null}), Some("name"), "null where the schema does not allow it"),
            (json!({"other\u{0}": "\u{0}"}), None, "a property the service ignores"),
        ];
        for (value, expected, message) in cases {
            let found = bad_string(&spec, &schema, &value, String::new());
            assert_eq!(found.as_ref().map(|(f, _)| f.as_str()), expected, "{message}");
        }
    }

    #[test]
    fn allow_lists_the_methods_of_the_matching_template() {
        let spec = json!({"paths": {
            "/users/{id}": {"get": {}, "delete": {}},
            "/users/me": {"get": {}, "patch": {}, "delete": {}},
        }});
        let paths = served_paths(&spec);
        assert_eq!(allowed_methods(&paths, "/users/me").as_deref(), Some("DELETE, GET, PATCH"));
        assert_eq!(allowed_methods(&paths, "/users/42").as_deref(), Some("DELETE, GET"));
        assert_eq!(allowed_methods(&paths, "/openapi.json").as_deref(), Some("GET"));
        assert_eq!(allowed_methods(&paths, "/nowhere"), None);
    }

    #[test]
    fn the_text_rule_goes_on_plain_strings_only() {
        let mut spec = json!({"a": {"type": "string"}, "b": {"type": "string", "format": "uuid"},
            "c": {"type": "string", "enum": ["x"]}, "d": {"type": "integer"}});
        document_text_rule(&mut spec);
        assert_eq!(spec["a"]["pattern"], TEXT_PATTERN);
        assert!(spec["b"].get("pattern").is_none() && spec["c"].get("pattern").is_none());
        assert!(spec["d"].get("pattern").is_none());
    }
}
