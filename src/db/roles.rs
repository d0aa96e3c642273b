//! The roles allot relies on are checked, not trusted: a role of the same name made beforehand by
//! someone else (a superuser, or one that bypasses row-level security) would quietly take away
//! the database's second wall. Checked after every migration run; allot refuses to start when a
//! role is not what it should be.

use crate::db::Client;

/// What the catalogue says of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAttributes {
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
    pub can_login: bool,
    pub create_role: bool,
    pub create_db: bool,
    /// Tables, functions and other objects it owns.
    pub owned: i64,
}

/// The roles allot serves through, and what each must be.
const ROLES: [(&str, bool); 3] = [
    // (name, may log in)
    ("allot_app", false),
    ("allot_directory", false),
    ("allot_server", true),
];

/// Why a role is unsafe, if it is.
pub fn judge(role: &RoleAttributes) -> Result<(), String> {
    let may_log_in = ROLES
        .iter()
        .find(|(name, _)| *name == role.name)
        .map(|(_, login)| *login)
        .unwrap_or(false);
    let mut wrong = Vec::new();
    if role.superuser {
        wrong.push("is a superuser");
    }
    if role.bypass_rls {
        wrong.push("bypasses row-level security");
    }
    if role.create_role || role.create_db {
        wrong.push("may create roles or databases");
    }
    if role.can_login && !may_log_in {
        wrong.push("may log in");
    }
    if role.name == "allot_server" && role.owned > 0 {
        wrong.push("owns objects");
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the database role {} {}: allot relies on it having no such powers; drop or alter it (ALTER ROLE {} NOSUPERUSER NOBYPASSRLS ...) and start again",
            role.name,
            wrong.join(", "),
            role.name
        ))
    }
}

/// Reads the roles' attributes and refuses any that is not as allot made it.
pub async fn check(client: &Client) -> anyhow::Result<()> {
    let names: Vec<&str> = ROLES.iter().map(|(name, _)| *name).collect();
    let rows = client
        .query(
            "SELECT r.rolname::text AS name, r.rolsuper, r.rolbypassrls, r.rolcanlogin,
                    r.rolcreaterole, r.rolcreatedb,
                    (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)
                  + (SELECT count(*) FROM pg_proc p WHERE p.proowner = r.oid) AS owned
             FROM pg_roles r WHERE r.rolname = ANY($1)",
            &[&names],
        )
        .await?;
    for row in &rows {
        let role = RoleAttributes {
            name: row.try_get("name")?,
            superuser: row.try_get("rolsuper")?,
            bypass_rls: row.try_get("rolbypassrls")?,
            can_login: row.try_get("rolcanlogin")?,
            create_role: row.try_get("rolcreaterole")?,
            create_db: row.try_get("rolcreatedb")?,
            owned: row.try_get("owned")?,
        };
        judge(&role).map_err(anyhow::Error::msg)?;
    }
    if rows.len() != names.len() {
        anyhow::bail!("the database roles {names:?} are not all there: run the migrations as the schema owner");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> RoleAttributes {
        RoleAttributes {
            name: name.into(),
            superuser: false,
            bypass_rls: false,
            can_login: name == "allot_server",
            create_role: false,
            create_db: false,
            owned: 0,
        }
    }

    #[test]
    fn roles_as_allot_made_them_pass() {
        for name in ["allot_app", "allot_directory", "allot_server"] {
            assert_eq!(judge(&role(name)), Ok(()));
        }
    }

    #[test]
    fn a_role_made_beforehand_with_powers_is_refused() {
        let mut app = role("allot_app");
        app.bypass_rls = true;
        assert!(judge(&app)
            .unwrap_err()
            .contains("bypasses row-level security"));
        let mut app = role("allot_app");
        app.superuser = true;
        app.can_login = true;
        let why = judge(&app).unwrap_err();
        assert!(
            why.contains("superuser") && why.contains("may log in"),
            "{why}"
        );
        let mut server = role("allot_server");
        server.owned = 3;
        assert!(judge(&server).unwrap_err().contains("owns objects"));
        let mut directory = role("allot_directory");
        directory.create_role = true;
        assert!(judge(&directory).is_err());
    }
}
