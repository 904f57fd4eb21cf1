//! The fields of a resource, declared once: they give the OpenAPI schemas of its answers and of
//! its request bodies, the types of its filters, and the forms of the browsable API.

use serde_json::{Map, Value, json};

/// A field's JSON type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Integer,
    Number,
    String,
    Boolean,
    DateTime,
    Date,
    Email,
    Uri,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// An array of strings.
    Strings,
    /// An array of integers.
    Integers,
    /// Any JSON object.
    Object,
    /// Any JSON value.
    Any,
    /// Another model, by its schema name.
    Model(&'static str),
    /// An array of another model.
    Models(&'static str),
}

impl Kind {
    pub fn schema(self) -> Value {
        match self {
            Kind::Integer => json!({ "type": "integer" }),
            Kind::Number => json!({ "type": "number" }),
            Kind::String => json!({ "type": "string" }),
            Kind::Boolean => json!({ "type": "boolean" }),
            Kind::DateTime => json!({ "type": "string", "format": "date-time" }),
            Kind::Date => json!({ "type": "string", "format": "date" }),
            Kind::Email => json!({ "type": "string", "format": "email" }),
            Kind::Uri => json!({ "type": "string", "format": "uri" }),
            Kind::Enum(values) => json!({ "type": "string", "enum": values }),
            Kind::Strings => json!({ "type": "array", "items": { "type": "string" } }),
            Kind::Integers => json!({ "type": "array", "items": { "type": "integer" } }),
            Kind::Object => json!({ "type": "object" }),
            Kind::Any => json!({}),
            Kind::Model(name) => reference(name),
            Kind::Models(name) => json!({ "type": "array", "items": reference(name) }),
        }
    }

    /// The schema accepting `null` as well.
    fn nullable_schema(self) -> Value {
        match self {
            Kind::Any => json!({}),
            Kind::Model(_) => json!({ "oneOf": [self.schema(), { "type": "null" }] }),
            Kind::Enum(values) => {
                let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
                values.push(Value::Null);
                json!({ "type": ["string", "null"], "enum": values })
            }
            _ => {
                let mut schema = self.schema();
                if let Some(kind) = schema.get("type").cloned() {
                    schema["type"] = json!([kind, "null"]);
                }
                schema
            }
        }
    }
}

pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// In answers only.
    ReadOnly,
    /// In requests only (secrets).
    WriteOnly,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub access: Access,
    /// Required in a create or a replace.
    pub required: bool,
    pub nullable: bool,
    /// Left out of some answers (a key's plaintext is only in the create answer).
    pub optional: bool,
    pub about: &'static str,
}

impl Field {
    const fn new(name: &'static str, kind: Kind, access: Access) -> Self {
        Field {
            name,
            kind,
            access,
            required: false,
            nullable: false,
            optional: false,
            about: "",
        }
    }
    /// Read and written.
    pub const fn rw(name: &'static str, kind: Kind) -> Self {
        Field::new(name, kind, Access::ReadWrite)
    }
    /// Only answered.
    pub const fn ro(name: &'static str, kind: Kind) -> Self {
        Field::new(name, kind, Access::ReadOnly)
    }
    /// Only accepted (a secret).
    pub const fn wo(name: &'static str, kind: Kind) -> Self {
        Field::new(name, kind, Access::WriteOnly)
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }
    pub const fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub const fn about(mut self, about: &'static str) -> Self {
        self.about = about;
        self
    }

    pub fn schema(&self) -> Value {
        let mut schema = if self.nullable {
            self.kind.nullable_schema()
        } else {
            self.kind.schema()
        };
        if !self.about.is_empty() {
            schema["description"] = json!(self.about);
        }
        schema
    }
}

/// A resource's representation.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    /// The schema name (`Asset`); the request body is `<name>Input`.
    pub name: &'static str,
    /// The singular noun of summaries (`asset`).
    pub noun: &'static str,
    /// One line on what it is.
    pub about: &'static str,
    /// A record of an organization: it carries `id`, `organization`, `organization_name`,
    /// `created_at` and `updated_at` besides `fields`.
    pub record: bool,
    pub fields: &'static [Field],
    /// What `search` looks through.
    pub search: &'static [&'static str],
}

const RECORD: &[Field] = &[
    Field::ro("id", Kind::Integer),
    Field::rw("organization", Kind::Integer)
        .about("Set on create only: the organization's id (or use ?organization=)"),
    Field::ro("organization_name", Kind::String),
    Field::ro("created_at", Kind::DateTime),
    Field::ro("updated_at", Kind::DateTime),
];

impl Model {
    /// Every field, the record fields first.
    pub fn all_fields(&self) -> impl Iterator<Item = &Field> {
        let base: &[Field] = if self.record { RECORD } else { &[] };
        base.iter().chain(self.fields.iter())
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.all_fields().find(|f| f.name == name)
    }

    pub fn input_name(&self) -> String {
        format!("{}Input", self.name)
    }

    /// Whether requests write it at all.
    pub fn writable(&self) -> bool {
        self.fields.iter().any(|f| f.access != Access::ReadOnly)
    }

    /// The schema of the answers.
    pub fn schema(&self) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in self.all_fields().filter(|f| f.access != Access::WriteOnly) {
            let mut schema = field.schema();
            if field.access == Access::ReadOnly {
                schema["readOnly"] = json!(true);
            }
            properties.insert(field.name.into(), schema);
            if !field.optional {
                required.push(field.name);
            }
        }
        json!({
            "type": "object",
            "description": self.about,
            "required": required,
            "properties": properties,
        })
    }

    /// The schema of a request body; `required` is listed only for a create or a replace.
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        for field in self.all_fields().filter(|f| f.access != Access::ReadOnly) {
            let mut schema = field.schema();
            if field.access == Access::WriteOnly {
                schema["writeOnly"] = json!(true);
            }
            properties.insert(field.name.into(), schema);
        }
        json!({ "type": "object", "properties": properties })
    }

    pub fn required_on_create(&self) -> Vec<&'static str> {
        self.all_fields()
            .filter(|f| f.required && f.access != Access::ReadOnly)
            .map(|f| f.name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THING: Model = Model {
        name: "Thing",
        noun: "thing",
        about: "A thing",
        record: true,
        fields: &[
            Field::rw("name", Kind::String).required(),
            Field::rw("status", Kind::Enum(&["a", "b"])).nullable(),
            Field::wo("secret", Kind::String),
            Field::ro("seen", Kind::DateTime).nullable(),
        ],
        search: &["name"],
    };

    #[test]
    fn answers_hide_secrets_and_requests_hide_read_only_fields() {
        let answer = THING.schema();
        assert!(answer["properties"].get("secret").is_none());
        assert_eq!(answer["properties"]["seen"]["readOnly"], true);
        assert_eq!(
            answer["properties"]["seen"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            answer["properties"]["status"]["enum"],
            json!(["a", "b", null])
        );
        let input = THING.input_schema();
        assert!(input["properties"].get("seen").is_none());
        assert!(input["properties"].get("id").is_none());
        assert_eq!(input["properties"]["secret"]["writeOnly"], true);
        assert_eq!(THING.required_on_create(), vec!["name"]);
    }
}
