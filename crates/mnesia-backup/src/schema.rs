//! The `{schema, Tab, CreateList}` item.

use erlang_term::Term;

/// Mnesia table type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableType {
    /// `set`: one record per key, hash order.
    Set,
    /// `ordered_set`: one record per key, key order.
    OrderedSet,
    /// `bag`: several records per key.
    Bag,
}

impl TableType {
    /// The atom mnesia uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TableType::Set => "set",
            TableType::OrderedSet => "ordered_set",
            TableType::Bag => "bag",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "set" => Some(TableType::Set),
            "ordered_set" => Some(TableType::OrderedSet),
            "bag" => Some(TableType::Bag),
            _ => None,
        }
    }
}

/// A table's definition as the backup carries it. The create list is kept whole so that it
/// is written back unchanged; accessors read the parts EMQX and mnesia look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// Table name.
    pub table: String,
    /// The create list, usually `{Key, Value}` pairs.
    pub create_list: Vec<Term>,
}

impl Schema {
    /// A full create list as mnesia 4.21 writes it for a `disc_copies` table on `node`.
    pub fn new(
        table: &str,
        kind: TableType,
        record_name: &str,
        attributes: &[&str],
        node: &str,
    ) -> Self {
        let pair = |k: &str, v: Term| Term::tuple(vec![Term::atom(k), v]);
        let nodes = Term::list(vec![Term::atom(node)]);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as i64;
        let cookie = Term::tuple(vec![
            Term::tuple(vec![
                Term::Int(nanos),
                Term::Int(-576_460_752_303_423_452),
                Term::Int(1),
            ]),
            Term::atom(node),
        ]);
        let create_list = vec![
            pair("name", Term::atom(table)),
            pair("type", Term::atom(kind.as_str())),
            pair("ram_copies", Term::list(vec![])),
            pair("disc_copies", nodes),
            pair("disc_only_copies", Term::list(vec![])),
            pair("load_order", Term::Int(0)),
            pair("access_mode", Term::atom("read_write")),
            pair("majority", Term::boolean(false)),
            pair("index", Term::list(vec![])),
            pair("snmp", Term::list(vec![])),
            pair("local_content", Term::boolean(false)),
            pair("record_name", Term::atom(record_name)),
            pair(
                "attributes",
                Term::list(attributes.iter().map(|a| Term::atom(a)).collect()),
            ),
            pair("user_properties", Term::list(vec![])),
            pair("frag_properties", Term::list(vec![])),
            pair("storage_properties", Term::list(vec![])),
            pair("cookie", cookie),
            pair(
                "version",
                Term::tuple(vec![
                    Term::tuple(vec![Term::Int(2), Term::Int(0)]),
                    Term::list(vec![]),
                ]),
            ),
        ];
        Schema {
            table: table.into(),
            create_list,
        }
    }

    /// The value of a create-list property.
    pub fn property(&self, key: &str) -> Option<&Term> {
        self.create_list.iter().find_map(|t| match t.as_tuple() {
            Some([k, v]) if k.as_atom() == Some(key) => Some(v),
            _ => None,
        })
    }

    /// The attribute names, the only part EMQX's import validates.
    pub fn attributes(&self) -> Option<Vec<String>> {
        self.property("attributes")?
            .as_list()?
            .iter()
            .map(|a| a.as_atom().map(str::to_owned))
            .collect()
    }

    /// The record name (defaults to the table name, as in mnesia).
    pub fn record_name(&self) -> String {
        self.property("record_name")
            .and_then(Term::as_atom)
            .unwrap_or(&self.table)
            .to_owned()
    }

    /// The table type, if stated and known.
    pub fn table_type(&self) -> Option<TableType> {
        TableType::parse(self.property("type")?.as_atom()?)
    }

    /// The Erlang term of this item.
    pub fn to_term(&self) -> Term {
        Term::tuple(vec![
            Term::atom("schema"),
            Term::atom(&self.table),
            Term::list(self.create_list.clone()),
        ])
    }

    /// Reads a schema item; `None` if the term is not a schema item at all.
    pub(crate) fn from_term(t: &Term) -> Option<Result<Schema, String>> {
        let e = t.as_tuple()?;
        if e.first()?.as_atom()? != "schema" {
            return None;
        }
        Some(Self::fields(e))
    }

    fn fields(e: &[Term]) -> Result<Schema, String> {
        if e.len() != 3 {
            return Err(format!("expected 3 elements, found {}", e.len()));
        }
        let table = e[1]
            .as_atom()
            .ok_or_else(|| format!("table name is {}, expected an atom", e[1]))?;
        let create_list = e[2]
            .as_list()
            .ok_or_else(|| format!("create list of {table} is {}, expected a list", e[2]))?
            .to_vec();
        let schema = Schema {
            table: table.to_owned(),
            create_list,
        };
        if schema.property("attributes").is_some() && schema.attributes().is_none() {
            return Err(format!("attributes of {table} are not a list of atoms"));
        }
        Ok(schema)
    }
}
