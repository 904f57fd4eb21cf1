//! A service's part of the OpenAPI document, built from its resources and actions.

use serde_json::{Map, Value, json};

use super::model::{Kind, Model, reference};

/// The operations of a resource: `l`ist, `c`reate, `b`ulk create (an array body as well),
/// `r`etrieve, re`p`lace (PUT), `u`pdate (PATCH), `d`elete.
pub type Ops = &'static str;

#[derive(Debug, Default)]
pub struct Spec {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
    tags: Map<String, Value>,
    webhooks: Map<String, Value>,
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": reference("Error") } } })
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// The answers every operation may give besides its own.
fn responses(status: &str, description: &str, schema: Option<Value>) -> Map<String, Value> {
    let mut responses = Map::new();
    let mut own = json!({ "description": description });
    if let Some(schema) = schema {
        own["content"] = json_content(schema);
    }
    responses.insert(status.into(), own);
    // Any request can be unreadable (a NUL character, a malformed query); operations that
    // validate input say more.
    responses.insert(
        "400".into(),
        response_of("The request cannot be read", "Invalid"),
    );
    responses.insert(
        "401".into(),
        error_response("No key, or a key that is not valid"),
    );
    responses.insert(
        "403".into(),
        error_response("The key's role or reach does not allow it"),
    );
    responses.insert(
        "429".into(),
        error_response("Rate limited; retry after Retry-After seconds"),
    );
    responses
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer" } }))
        .collect()
}

fn query(name: &str, schema: Value, about: &str) -> Value {
    let mut parameter = json!({ "name": name, "in": "query", "schema": schema });
    if !about.is_empty() {
        parameter["description"] = json!(about);
    }
    parameter
}

fn organization_parameter() -> Value {
    query(
        "organization",
        json!({ "type": "string" }),
        "An organization the key reaches, by id or slug, or `all`",
    )
}

fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{noun}s"),
    }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// The schema of a list answer of `model`.
pub fn page_schema(model: &Model) -> Value {
    json!({
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": { "type": "integer" },
            "next": { "type": ["string", "null"], "format": "uri" },
            "previous": { "type": ["string", "null"], "format": "uri" },
            "results": { "type": "array", "items": reference(model.name) },
        }
    })
}

/// A filter's schema: from the model's field of that name, else from its name.
/// A `name:kind` entry names the type (`cvss_min:number`).
fn filter_parameter(model: &Model, filter: &str) -> Value {
    let (name, kind) = filter.split_once(':').unwrap_or((filter, ""));
    let schema = match kind {
        "integer" => Kind::Integer.schema(),
        "number" => Kind::Number.schema(),
        "boolean" => Kind::Boolean.schema(),
        "date" => Kind::Date.schema(),
        "datetime" => Kind::DateTime.schema(),
        _ if name.ends_with("_after") || name.ends_with("_before") => Kind::DateTime.schema(),
        _ => match model.field(name).map(|f| f.kind) {
            Some(
                kind @ (Kind::Integer
                | Kind::Number
                | Kind::Boolean
                | Kind::Enum(_)
                | Kind::Date
                | Kind::DateTime),
            ) => kind.schema(),
            _ => Kind::String.schema(),
        },
    };
    query(name, schema, "")
}

impl Spec {
    pub fn new() -> Self {
        Spec::default()
    }

    fn operation(&mut self, path: &str, method: &str, mut operation: Value) {
        // Every body passes the gateway's size limit first.
        if operation.get("requestBody").is_some()
            && let Some(responses) = operation["responses"].as_object_mut()
        {
            responses.entry("413").or_insert_with(|| {
                error_response(
                    "The body is larger than the gateway accepts (CLIENTSTOR_GATEWAY__MAX_BODY_BYTES, 10 MiB by default)",
                )
            });
        }
        let item = self
            .paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}));
        item[method] = operation;
    }

    /// Registers a model's answer and request schemas.
    pub fn model(&mut self, model: &Model) -> &mut Self {
        self.schemas.insert(model.name.into(), model.schema());
        if model.writable() {
            self.schemas
                .insert(model.input_name(), model.input_schema());
        }
        self
    }

    /// The fields the list at `list` can be ordered by: its `ordering` parameter names them and
    /// `x-ordering-fields` lists them for tools (the browsable page offers them).
    pub fn ordering(&mut self, list: &str, fields: &[&str]) -> &mut Self {
        let Some(operation) = self
            .paths
            .get_mut(list)
            .and_then(|item| item.get_mut("get"))
            .and_then(Value::as_object_mut)
        else {
            return self;
        };
        let about = format!(
            "Comma-separated, from: {}; `-` before a field for descending",
            fields.join(", ")
        );
        for parameter in operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if parameter["name"] == "ordering" {
                parameter["description"] = json!(about);
            }
        }
        operation.insert("x-ordering-fields".into(), json!(fields));
        self
    }

    /// A schema that is not a resource (an error, a preview).
    pub fn schema(&mut self, name: &str, schema: Value) -> &mut Self {
        self.schemas.insert(name.into(), schema);
        self
    }

    /// The paths of a resource at `base` (`/api/v1/assets/`, `/api/v1/vehicles/{id}/maintenance/`).
    /// `filters` are the list's query parameters beyond organization, search, ordering and paging.
    pub fn resource(&mut self, base: &str, model: &Model, ops: Ops, filters: &[&str]) -> &mut Self {
        self.model(model);
        let tag = self.tag_for(base, model);
        // A nested resource (`/vehicles/{id}/maintenance/`) names its own id `record_id`.
        let item = if base.contains("{id}") {
            format!("{base}{{record_id}}/")
        } else {
            format!("{base}{{id}}/")
        };
        let noun = model.noun;
        let input = reference(&model.input_name());
        let create_body = {
            let required = model.required_on_create();
            let schema = if required.is_empty() {
                input.clone()
            } else {
                json!({ "allOf": [input.clone(), { "required": required }] })
            };
            if ops.contains('b') {
                json!({ "oneOf": [schema, { "type": "array", "items": schema, "minItems": 1 }] })
            } else {
                schema
            }
        };
        let scoped: Vec<Value> = if model.record {
            vec![organization_parameter()]
        } else {
            vec![]
        };
        for op in ops.chars() {
            let (path, method, operation) = match op {
                'l' => {
                    let mut parameters = path_parameters(base);
                    parameters.extend(scoped.clone());
                    let search = if model.search.is_empty() {
                        "Ignored: this list has no search fields".to_string()
                    } else {
                        format!(
                            "Words that must all appear (case-insensitive) in {}",
                            model.search.join(", ")
                        )
                    };
                    parameters.push(query("search", json!({ "type": "string" }), &search));
                    // `Spec::ordering` says which fields, for the lists that can be ordered.
                    parameters.push(query(
                        "ordering",
                        json!({ "type": "string" }),
                        "Ignored: this list has a fixed order",
                    ));
                    parameters.push(query(
                        "page",
                        json!({ "type": "integer", "minimum": 1 }),
                        "1-based",
                    ));
                    parameters.push(query(
                        "page_size",
                        json!({ "type": "integer", "minimum": 1 }),
                        "25 by default; above 200 is served as 200",
                    ));
                    for filter in filters {
                        if !(model.record && filter.starts_with("organization")) {
                            parameters.push(filter_parameter(model, filter));
                        }
                    }
                    let mut responses = responses(
                        "200",
                        &format!("A page of {}", plural(noun)),
                        Some(page_schema(model)),
                    );
                    responses.insert(
                        "400".into(),
                        response_of("A paging or filter parameter is not valid", "Invalid"),
                    );
                    responses.insert("404".into(), error_response("A page past the end"));
                    let operation = json!({
                        "summary": format!("List {}", plural(noun)),
                        "description": model.about,
                        "tags": [tag],
                        "x-search-fields": model.search,
                        "parameters": parameters,
                        "responses": responses,
                    });
                    (base.to_string(), "get", operation)
                }
                'c' => {
                    let mut parameters = path_parameters(base);
                    parameters.extend(scoped.clone());
                    let mut responses = responses("201", "Created", Some(reference(model.name)));
                    responses.insert(
                        "400".into(),
                        response_of("Validation errors by field", "Invalid"),
                    );
                    if base.contains('{') {
                        responses.insert("404".into(), error_response("No such parent record"));
                    }
                    let operation = json!({
                        "summary": format!("Create {} {noun}", article(noun)),
                        "tags": [tag],
                        "parameters": parameters,
                        "requestBody": { "required": true, "content": json_content(create_body.clone()) },
                        "responses": responses,
                    });
                    (base.to_string(), "post", operation)
                }
                'r' => {
                    let mut responses =
                        responses("200", &format!("The {noun}"), Some(reference(model.name)));
                    responses.insert("404".into(), error_response("Not found"));
                    let operation = json!({
                        "summary": format!("Get {} {noun}", article(noun)),
                        "tags": [tag],
                        "parameters": path_parameters(&item),
                        "responses": responses,
                    });
                    (item.clone(), "get", operation)
                }
                'p' | 'u' => {
                    let (method, verb, body) = if op == 'p' {
                        ("put", "Replace", create_body.clone())
                    } else {
                        ("patch", "Update", input.clone())
                    };
                    let mut responses =
                        responses("200", &format!("The {noun}"), Some(reference(model.name)));
                    responses.insert("404".into(), error_response("Not found"));
                    responses.insert(
                        "400".into(),
                        response_of("Validation errors by field", "Invalid"),
                    );
                    let body = match body.get("oneOf") {
                        Some(one_of) => one_of[0].clone(),
                        None => body,
                    };
                    let operation = json!({
                        "summary": format!("{verb} {} {noun}", article(noun)),
                        "tags": [tag],
                        "parameters": path_parameters(&item),
                        "requestBody": { "required": true, "content": json_content(body) },
                        "responses": responses,
                    });
                    (item.clone(), method, operation)
                }
                'd' => {
                    let mut responses = responses("204", "Deleted", None);
                    responses.insert("404".into(), error_response("Not found"));
                    let operation = json!({
                        "summary": format!("Delete {} {noun}", article(noun)),
                        "tags": [tag],
                        "parameters": path_parameters(&item),
                        "responses": responses,
                    });
                    (item.clone(), "delete", operation)
                }
                _ => continue,
            };
            self.operation(&path, method, operation);
        }
        self
    }

    /// The tag of the top-level resource a path belongs to (`/api/v1/vehicles/{id}/…` → vehicles).
    fn tag_for(&mut self, path: &str, model: &Model) -> String {
        let top = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let top = if top == "integrations" {
            "integrations/rmm".to_string()
        } else {
            top
        };
        // The first resource registered at the top level describes the tag.
        let nested = path.trim_start_matches("/api/v1/").trim_end_matches('/') != top;
        if !nested || !self.tags.contains_key(&top) {
            let entry = self.tags.entry(top.clone()).or_insert_with(|| json!({}));
            if !nested || entry.get("description").is_none() {
                *entry = json!({ "name": top, "description": model.about });
            }
        }
        top
    }

    /// An operation that is not plain CRUD.
    pub fn action(&mut self, action: Action) -> &mut Self {
        let tag = action
            .path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap_or_default();
        let tag = if tag == "integrations" {
            "integrations/rmm"
        } else {
            tag
        };
        let mut parameters = path_parameters(action.path);
        parameters.extend(action.query);
        let mut responses = responses(action.status, action.description, action.response);
        for (status, description) in action.errors {
            responses.insert(
                status.to_string(),
                if status == "400" {
                    response_of(description, "Invalid")
                } else {
                    error_response(description)
                },
            );
        }
        let mut operation = json!({
            "summary": action.summary,
            "tags": [tag],
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = action.body {
            operation["requestBody"] = json!({ "required": true, "content": json_content(body) });
        }
        self.operation(action.path, action.method, operation);
        self
    }

    /// A webhook event: what is POSTed to subscribers.
    pub fn webhook(&mut self, event: &str, summary: &str, payload: Value) -> &mut Self {
        self.webhooks.insert(
            event.into(),
            json!({ "post": {
                "summary": summary,
                "requestBody": { "required": true, "content": json_content(payload) },
                "responses": { "2XX": { "description": "Received; any other answer is retried" } },
            }}),
        );
        self
    }

    /// The part as an OpenAPI document of its own.
    pub fn document(self, title: &str) -> Value {
        super::document(title, self.into_part())
    }

    pub(super) fn into_part(self) -> super::Part {
        super::Part {
            paths: self.paths,
            schemas: self.schemas,
            tags: self.tags,
            webhooks: self.webhooks,
        }
    }
}

/// A 400 with the validation shape.
fn response_of(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": reference(schema) } } })
}

/// One operation that is not plain CRUD (`POST …/{id}/sync/`, `GET …/{id}/otp/`).
pub struct Action {
    path: &'static str,
    method: &'static str,
    summary: &'static str,
    status: &'static str,
    description: &'static str,
    response: Option<Value>,
    body: Option<Value>,
    query: Vec<Value>,
    errors: Vec<(&'static str, &'static str)>,
}

impl Action {
    /// `method` in lower case; path parameters are read from `path`.
    pub fn new(method: &'static str, path: &'static str, summary: &'static str) -> Self {
        Action {
            path,
            method,
            summary,
            status: "200",
            description: "Done",
            response: None,
            body: None,
            query: Vec::new(),
            // Only a path naming a record can miss it.
            errors: if path.contains('{') {
                vec![("404", "Not found")]
            } else {
                Vec::new()
            },
        }
    }
    /// The success status and what it means.
    pub fn answers(mut self, status: &'static str, description: &'static str) -> Self {
        self.status = status;
        self.description = description;
        self
    }
    /// The answer is a `model`.
    pub fn returns(mut self, model: &Model) -> Self {
        self.response = Some(reference(model.name));
        self
    }
    /// The answer is a page of `model`.
    pub fn returns_page(mut self, model: &Model) -> Self {
        self.response = Some(page_schema(model));
        self
    }
    /// The answer's schema.
    pub fn returns_schema(mut self, schema: Value) -> Self {
        self.response = Some(schema);
        self
    }
    /// The request body's schema.
    pub fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self.errors.push(("400", "Validation errors"));
        self
    }
    /// A query parameter.
    pub fn query(mut self, name: &str, kind: Kind, about: &str) -> Self {
        self.query.push(query(name, kind.schema(), about));
        self
    }
    /// A query parameter shared by the organization-scoped lists.
    pub fn organization(mut self) -> Self {
        self.query.push(organization_parameter());
        self
    }
    /// Not an answer it gives (an action on no record has no 404).
    pub fn without(mut self, status: &'static str) -> Self {
        self.errors.retain(|(s, _)| *s != status);
        self
    }
    /// Another error answer.
    pub fn error(mut self, status: &'static str, description: &'static str) -> Self {
        self.errors.push((status, description));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Field;
    use super::*;

    const NOTE: Model = Model {
        name: "Note",
        noun: "note",
        about: "Notes",
        record: true,
        fields: &[
            Field::rw("text", Kind::String).required(),
            Field::rw("kind", Kind::Enum(&["a", "b"])),
        ],
        search: &["text"],
    };

    #[test]
    fn a_resource_gives_list_item_and_typed_filters() {
        let mut spec = Spec::new();
        spec.resource(
            "/api/v1/notes/",
            &NOTE,
            "lcbrpud",
            &["kind", "cvss_min:number"],
        )
        .ordering("/api/v1/notes/", &["id", "text"]);
        let part = spec.into_part();
        let list = &part.paths["/api/v1/notes/"]["get"];
        let names: Vec<&str> = list["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "organization",
                "search",
                "ordering",
                "page",
                "page_size",
                "kind",
                "cvss_min"
            ]
        );
        assert_eq!(list["parameters"][5]["schema"]["enum"], json!(["a", "b"]));
        assert_eq!(list["parameters"][6]["schema"]["type"], "number");
        assert_eq!(list["x-ordering-fields"], json!(["id", "text"]));
        assert!(
            list["parameters"][2]["description"]
                .as_str()
                .unwrap()
                .contains("from: id, text;")
        );
        let item = &part.paths["/api/v1/notes/{id}/"];
        for method in ["get", "put", "patch", "delete"] {
            assert!(item.get(method).is_some(), "{method}");
        }
        let create = &part.paths["/api/v1/notes/"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert!(create.get("oneOf").is_some());
        assert!(part.paths["/api/v1/notes/"]["post"]["responses"]["413"].is_object());
        assert!(part.paths["/api/v1/notes/"]["get"]["responses"]["413"].is_null());
        assert!(part.schemas.contains_key("NoteInput"));
        assert_eq!(part.tags["notes"]["description"], "Notes");
    }

    #[test]
    fn nested_resources_name_their_id_record_id() {
        let mut spec = Spec::new();
        spec.resource("/api/v1/things/{id}/notes/", &NOTE, "r", &[]);
        let part = spec.into_part();
        let names: Vec<&str> =
            part.paths["/api/v1/things/{id}/notes/{record_id}/"]["get"]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["name"].as_str())
                .collect();
        assert_eq!(names, ["id", "record_id"]);
    }
}
