//! What the checks in front of the executors know of the schema: each field's type and
//! arguments, each input object's fields. Read from the registry the schema itself is
//! built from, once per schema, so the checks and the executors cannot disagree on a
//! type.

use async_graphql::OutputType;
use async_graphql::registry::{MetaField, MetaInputValue, MetaType, MetaTypeName, Registry};

use crate::auth::policy::RootFields;
use crate::graphql::{MutationRoot, QueryRoot, SubscriptionRoot};

/// The schema's types, by name.
pub struct Types {
    registry: Registry,
}

impl Types {
    /// The types reachable from the query and mutation roots.
    pub fn of_schema() -> Self {
        let mut registry = Registry::default();
        QueryRoot::create_type_info(&mut registry);
        MutationRoot::create_type_info(&mut registry);
        <SubscriptionRoot as async_graphql::SubscriptionType>::create_type_info(&mut registry);
        Self { registry }
    }

    /// The name of the root type of queries.
    pub fn query(&self) -> String {
        QueryRoot::type_name().into_owned()
    }

    /// The name of the root type of mutations.
    pub fn mutation(&self) -> String {
        MutationRoot::type_name().into_owned()
    }

    /// The name of the root type of subscriptions.
    pub fn subscription(&self) -> String {
        <SubscriptionRoot as async_graphql::SubscriptionType>::type_name().into_owned()
    }

    /// The names of the root fields, which the policy checks against its table.
    pub fn root_fields(&self) -> RootFields {
        let names = |ty: &str| {
            self.registry
                .types
                .get(ty)
                .and_then(MetaType::fields)
                .map(|fields| fields.keys().cloned().collect())
                .unwrap_or_default()
        };
        RootFields {
            query: names(&self.query()),
            mutation: names(&self.mutation()),
            subscription: names(&self.subscription()),
        }
    }

    /// A field of an object or interface type.
    pub fn field(&self, parent: &str, name: &str) -> Option<&MetaField> {
        self.registry.types.get(parent)?.field_by_name(name)
    }

    /// The named type a field returns (lists and non-null unwrapped).
    pub fn field_type(&self, parent: &str, name: &str) -> Option<&str> {
        self.field(parent, name)
            .map(|field| MetaTypeName::concrete_typename(&field.ty))
    }

    /// A field of an input object type; `None` for any other type.
    pub fn input_field(&self, input_type: &str, name: &str) -> Option<&MetaInputValue> {
        match self.registry.types.get(input_type)? {
            MetaType::InputObject { input_fields, .. } => input_fields.get(name),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Types;

    #[test]
    fn fields_arguments_and_input_fields_are_known() {
        let types = Types::of_schema();
        assert_eq!(types.field_type("Query", "speaker"), Some("Speaker"));
        assert_eq!(
            types.field_type("Speaker", "statements"),
            Some("StatementConnection")
        );
        let create = types
            .field("Mutation", "createStatement")
            .expect("createStatement");
        assert_eq!(create.args["input"].ty, "CreateStatementInput!");
        assert_eq!(
            types
                .input_field("CreateStatementInput", "text")
                .map(|f| f.ty.as_str()),
            Some("String!")
        );
        assert!(types.input_field("Speaker", "name").is_none());
        let roots = types.root_fields();
        assert!(roots.query.contains("search"));
        assert!(roots.mutation.contains("purgeRecord"));
    }
}
