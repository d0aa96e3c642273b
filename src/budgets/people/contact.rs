//! How to reach a person, and how they need information given to them (accessible communication:
//! the NHS Accessible Information Standard applies to adult social care too). All optional.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactMethod {
    Post,
    Email,
    Phone,
    TextMessage,
}

impl ContactMethod {
    pub const ALL: [ContactMethod; 4] = [
        ContactMethod::Post,
        ContactMethod::Email,
        ContactMethod::Phone,
        ContactMethod::TextMessage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactMethod::Post => "post",
            ContactMethod::Email => "email",
            ContactMethod::Phone => "phone",
            ContactMethod::TextMessage => "text_message",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// Formats a person needs information in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommunicationFormat {
    LargePrint,
    EasyRead,
    Braille,
    Audio,
    BritishSignLanguage,
    Interpreter,
}

impl CommunicationFormat {
    pub const ALL: [CommunicationFormat; 6] = [
        CommunicationFormat::LargePrint,
        CommunicationFormat::EasyRead,
        CommunicationFormat::Braille,
        CommunicationFormat::Audio,
        CommunicationFormat::BritishSignLanguage,
        CommunicationFormat::Interpreter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommunicationFormat::LargePrint => "large_print",
            CommunicationFormat::EasyRead => "easy_read",
            CommunicationFormat::Braille => "braille",
            CommunicationFormat::Audio => "audio",
            CommunicationFormat::BritishSignLanguage => "british_sign_language",
            CommunicationFormat::Interpreter => "interpreter",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CommunicationFormat::LargePrint => "Large print",
            CommunicationFormat::EasyRead => "Easy read",
            CommunicationFormat::Braille => "Braille",
            CommunicationFormat::Audio => "Audio",
            CommunicationFormat::BritishSignLanguage => "British Sign Language",
            CommunicationFormat::Interpreter => "Spoken-language interpreter",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// Contact details; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub preferred: Option<ContactMethod>,
}

/// Accessible-communication preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Communication {
    #[serde(default)]
    pub formats: Vec<CommunicationFormat>,
    /// Preferred language, in words ("Urdu", "Welsh").
    #[serde(default)]
    pub language: Option<String>,
    /// Anything else that helps ("speak slowly, hearing aid in the left ear").
    #[serde(default)]
    pub notes: Option<String>,
}

/// Trims an optional text field; blank becomes `None`; too long is an error naming the field.
fn tidy(field: &str, value: &Option<String>, max: usize) -> AppResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() > max => Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(text) if text.chars().any(|c| c.is_control() && c != '\n') => Err(AppError::invalid(
            field,
            "must not contain control characters",
        )),
        Some(text) => Ok(Some(text.to_string())),
    }
}

impl Contact {
    /// Checked and tidied (trimmed, blanks dropped).
    pub fn validated(&self) -> AppResult<Contact> {
        let phone = tidy("contact.phone", &self.phone, 40)?;
        if let Some(phone) = &phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +()-".contains(c));
            if !allowed || !(7..=15).contains(&digits) {
                return Err(AppError::invalid(
                    "contact.phone",
                    "a phone number is 7 to 15 digits, with spaces, brackets or + if you like",
                ));
            }
        }
        let email = tidy("contact.email", &self.email, 254)?;
        if let Some(email) = &email {
            let ok = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
            }) && !email.contains(char::is_whitespace);
            if !ok {
                return Err(AppError::invalid(
                    "contact.email",
                    "must be an email address like name@example.org",
                ));
            }
        }
        let address = tidy("contact.address", &self.address, 500)?;
        let contact = Contact {
            phone,
            email,
            address,
            preferred: self.preferred,
        };
        let reachable = match contact.preferred {
            Some(ContactMethod::Post) => contact.address.is_some(),
            Some(ContactMethod::Email) => contact.email.is_some(),
            Some(ContactMethod::Phone | ContactMethod::TextMessage) => contact.phone.is_some(),
            None => true,
        };
        if !reachable {
            return Err(AppError::invalid(
                "contact.preferred",
                "the preferred way of contact needs its detail (address, email or phone)",
            ));
        }
        Ok(contact)
    }
}

impl Communication {
    pub fn validated(&self) -> AppResult<Communication> {
        let mut formats = self.formats.clone();
        formats.dedup();
        formats.sort_by_key(|f| f.as_str());
        formats.dedup();
        Ok(Communication {
            formats,
            language: tidy("communication.language", &self.language, 100)?,
            notes: tidy("communication.notes", &self.notes, 1000)?,
        })
    }

    pub fn format_strings(&self) -> Vec<String> {
        self.formats
            .iter()
            .map(|f| f.as_str().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_is_tidied_and_checked() {
        let contact = Contact {
            phone: Some(" 01632 960 123 ".into()),
            email: Some(" ".into()),
            address: None,
            preferred: Some(ContactMethod::Phone),
        };
        let tidy = contact.validated().unwrap();
        assert_eq!(tidy.phone.as_deref(), Some("01632 960 123"));
        assert_eq!(tidy.email, None);

        let no_address = Contact {
            preferred: Some(ContactMethod::Post),
            ..Default::default()
        };
        assert!(no_address.validated().is_err());
        let bad_phone = Contact {
            phone: Some("call me".into()),
            ..Default::default()
        };
        assert!(bad_phone.validated().is_err());
    }

    #[test]
    fn formats_are_deduplicated() {
        let communication = Communication {
            formats: vec![
                CommunicationFormat::LargePrint,
                CommunicationFormat::Audio,
                CommunicationFormat::LargePrint,
            ],
            language: Some(" Welsh ".into()),
            notes: None,
        };
        let tidy = communication.validated().unwrap();
        assert_eq!(tidy.formats.len(), 2);
        assert_eq!(tidy.language.as_deref(), Some("Welsh"));
    }
}
