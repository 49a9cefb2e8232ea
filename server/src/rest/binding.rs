//! The route table: one binding per `google.api.http` rule (and each of its
//! additional bindings) of the API's methods, read from the descriptors and
//! checked when the server starts.

use axum::http::Method;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor, Value,
};

use crate::rest::template::Template;

/// Where the fields of a request come from, besides the path.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body: the other fields come from the query string.
    None,
    /// The body is the whole request (`body: "*"`).
    Whole,
    /// The body is this field of the request; the query string fills the
    /// others.
    Field(FieldDescriptor),
}

/// One route to one RPC.
#[derive(Debug, Clone)]
pub struct Binding {
    pub method: MethodDescriptor,
    pub http_method: Method,
    pub template: Template,
    pub body: Body,
    /// The response field sent as the body (all of the response when none).
    pub response_body: Option<FieldDescriptor>,
}

impl Binding {
    /// The gRPC path of the method, e.g. `/scrape.v1.TaskService/StartTask`.
    pub fn grpc_path(&self) -> String {
        format!("/{}/{}", self.method.parent_service().full_name(), self.method.name())
    }

    /// The top-level request fields the path sets.
    pub fn path_fields(&self) -> Vec<String> {
        self.template.variables().map(|v| v.split('.').next().unwrap_or(v).to_owned()).collect()
    }
}

/// Every binding of the methods of `package` that declare HTTP rules.
pub fn bindings(pool: &DescriptorPool, package: &str) -> Result<Vec<Binding>, String> {
    let http = pool.get_extension_by_name("google.api.http").ok_or("the descriptors lack google.api.http")?;
    let mut out: Vec<Binding> = Vec::new();
    for service in pool.services().filter(|s| s.package_name() == package) {
        for method in service.methods() {
            let options = method.options();
            if !options.has_extension(&http) {
                continue;
            }
            let Value::Message(rule) = options.get_extension(&http).into_owned() else { continue };
            let mut rules = vec![rule.clone()];
            if let Some(Value::List(more)) = field(&rule, "additional_bindings") {
                rules.extend(more.into_iter().filter_map(|v| v.as_message().cloned()));
            }
            for rule in rules {
                let binding = binding(&method, &rule).map_err(|e| format!("{}: {e}", method.full_name()))?;
                if let Some(other) =
                    out.iter().find(|b| b.http_method == binding.http_method && b.template == binding.template)
                {
                    return Err(format!(
                        "{} and {} both route {} {}",
                        other.method.full_name(),
                        method.full_name(),
                        binding.http_method,
                        binding.template
                    ));
                }
                out.push(binding);
            }
        }
    }
    Ok(out)
}

fn field(message: &DynamicMessage, name: &str) -> Option<Value> {
    message.get_field_by_name(name).map(|v| v.into_owned())
}

fn text(message: &DynamicMessage, name: &str) -> String {
    field(message, name).and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// One rule of `method`, checked against its request and response.
fn binding(method: &MethodDescriptor, rule: &DynamicMessage) -> Result<Binding, String> {
    let mut pattern = None;
    for (name, http_method) in [
        ("get", Method::GET),
        ("put", Method::PUT),
        ("post", Method::POST),
        ("delete", Method::DELETE),
        ("patch", Method::PATCH),
    ] {
        if rule.has_field_by_name(name) {
            pattern = Some((http_method, text(rule, name)));
        }
    }
    let (http_method, path) = pattern.ok_or("an HTTP rule needs get, put, post, delete or patch")?;
    let template = Template::parse(&path).map_err(|e| e.to_string())?;
    let input = method.input();
    for variable in template.variables() {
        let field = field_at(&input, variable)?;
        if field.is_list() || field.is_map() || matches!(field.kind(), Kind::Message(_)) {
            return Err(format!("the path variable {variable} must name a scalar field"));
        }
    }
    let body = match text(rule, "body").as_str() {
        "" => Body::None,
        "*" => Body::Whole,
        name => Body::Field(input.get_field_by_name(name).ok_or_else(|| format!("no body field {name}"))?),
    };
    let response_body = match text(rule, "response_body").as_str() {
        "" => None,
        name => Some(method.output().get_field_by_name(name).ok_or_else(|| format!("no response field {name}"))?),
    };
    Ok(Binding { method: method.clone(), http_method, template, body, response_body })
}

/// The field at a dotted path of `message` (`watch.id`).
pub fn field_at(message: &MessageDescriptor, path: &str) -> Result<FieldDescriptor, String> {
    let mut current = message.clone();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = current.get_field_by_name(part).ok_or_else(|| format!("{} has no field {part}", current.name()))?;
        if parts.peek().is_none() {
            return Ok(field);
        }
        match field.kind() {
            Kind::Message(inner) if !field.is_list() && !field.is_map() => current = inner,
            _ => return Err(format!("{path}: {part} is not a message")),
        }
    }
    Err(format!("an empty field path in {}", message.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::descriptors;

    #[test]
    fn every_method_of_the_api_has_a_route_and_no_two_routes_collide() {
        let pool = descriptors::pool().expect("descriptors");
        let bindings = bindings(&pool, "scrape.v1").expect("valid rules");
        for service in pool.services().filter(|s| s.package_name() == "scrape.v1") {
            for method in service.methods() {
                assert!(
                    bindings.iter().any(|b| b.method == method),
                    "{} has no google.api.http rule: give it one in its proto",
                    method.full_name()
                );
            }
        }
        let stop = bindings.iter().find(|b| b.method.name() == "StopTask").expect("StopTask");
        assert_eq!((stop.http_method.as_str(), stop.template.to_string()), ("POST", "/v1/tasks/{task_id}:stop".into()));
        assert_eq!(stop.grpc_path(), "/scrape.v1.TaskService/StopTask");
        let documents = bindings.iter().filter(|b| b.method.name() == "ListDocuments").count();
        assert_eq!(documents, 2, "its additional binding too");
        let export = bindings.iter().find(|b| b.method.name() == "ExportTask").expect("ExportTask");
        assert_eq!(export.response_body.as_ref().map(|f| f.name()), Some("data"));
    }
}
