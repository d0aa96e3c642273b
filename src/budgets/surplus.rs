//! Surplus monitoring and recovery with notice (RULES.md › Monitoring; LGSCO Lancashire
//! 22 014 616, Cumbria 20 013 483: "four weeks' notice in line with its terms and conditions").
//!
//! - The surplus list: every direct-payment, managed-account and ISF account with its balance,
//!   weekly amount, weeks of funding, commitments (pending holds, invoices received and not yet
//!   paid, approved timesheets no payroll run has paid) and the surplus above the council's
//!   threshold ([`crate::rules::surplus`], shared with the organisations' returns).
//! - A notice (finance officers): never more than the surplus at that moment; a letter in plain
//!   words, stored exactly as sent with its SHA-256; a deadline `surplus_notice_weeks` after the
//!   issue date.
//! - Reconsideration (the person, a representative, the holder's staff) stops recovery until a
//!   care manager or finance officer other than the issuer decides.
//! - Recovery: after the deadline, a ledger entry from the account to the council's
//!   recovered-funds account, never leaving less than the commitments; what could not be taken is
//!   recorded as the shortfall and may be recovered later.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::accounts::{council_account, CouncilPurpose};
use super::funding::{self, FunderAmount, FundingPart, FundingSource};
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewEntry, NewLeg, Side};
use crate::money::Money;
use crate::rules::surplus::{assess, threshold_weeks};

/// One account on the surplus list.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurplusItem {
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub person_name: String,
    pub account_id: Uuid,
    /// `direct_payment`, `managed_account` or `isf`.
    pub deployment: String,
    /// Posted balance at the end of `as_of`.
    #[schema(value_type = String)]
    pub balance: Money,
    /// The approved plan's weekly amount for this holding (zero without an approved plan).
    #[schema(value_type = String)]
    pub weekly_amount: Money,
    /// Balance ÷ weekly amount to one decimal place (none without a weekly amount).
    #[schema(value_type = Option<String>)]
    pub weeks_of_funding: Option<Decimal>,
    /// Pending holds + invoices received and not yet paid + payroll due, as they stand now.
    #[schema(value_type = String)]
    pub commitments: Money,
    /// `surplus_weeks_dp` (direct payments, managed accounts) or `surplus_weeks_isf`.
    pub threshold_weeks: u32,
    /// Balance − commitments − threshold × weekly amount, never below zero.
    #[schema(value_type = String)]
    pub surplus: Money,
    /// The surplus apportioned between the budget's funders (in proportion to their weekly
    /// amounts, to the penny).
    #[serde(default)]
    pub by_funder: Vec<FunderAmount>,
}

/// The commitments of an account, part by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Commitments {
    holds: Decimal,
    invoices: Decimal,
    payroll: Decimal,
}

impl Commitments {
    fn total(&self) -> Decimal {
        self.holds + self.invoices + self.payroll
    }
}

fn money(value: Decimal) -> AppResult<Money> {
    Money::new(value.round_dp(2)).map_err(|e| AppError::Internal(format!("{value}: {e}")))
}

/// The accounts the list covers, with everything worked out in one statement. `$2` limits it to
/// one account (or none: every account).
const ITEMS: &str = "
SELECT a.account_id, a.budget_id, a.deployment, b.reference, p.name,
       (SELECT coalesce(sum(CASE g.side WHEN 'C' THEN g.amount ELSE -g.amount END), 0)
        FROM ledger_legs g
        WHERE g.council_id = a.council_id AND g.account_id = a.account_id AND NOT g.pending
          AND g.effective_date <= $3) AS balance,
       coalesce((SELECT sum(l.weekly_amount)
                 FROM support_plans sp
                 JOIN support_plan_lines l ON l.council_id = sp.council_id AND l.plan_id = sp.id
                 WHERE sp.council_id = a.council_id AND sp.budget_id = a.budget_id
                   AND sp.status = 'approved' AND l.deployment = a.deployment
                   AND l.holder_organisation_id IS NOT DISTINCT FROM a.holder_organisation_id), 0)
           AS weekly,
       la.pending_debits AS holds,
       (SELECT coalesce(sum(greatest(i.total - coalesce(
                  (SELECT sum(pm.amount) FROM payments pm
                   WHERE pm.council_id = i.council_id AND pm.invoice_id = i.id
                     AND pm.status IN ('posted', 'pending_approval')
                     AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                                     WHERE r.council_id = pm.council_id
                                       AND r.hold_id = pm.hold_entry_id AND r.outcome = 'expired')
                     AND NOT EXISTS (SELECT 1 FROM ledger_entries rev
                                     WHERE rev.council_id = pm.council_id
                                       AND rev.reverses = pm.posted_entry_id)), 0), 0)), 0)
        FROM invoices i
        WHERE i.council_id = a.council_id AND i.budget_id = a.budget_id
          AND i.deployment = a.deployment AND i.status = 'received') AS invoices,
       (SELECT coalesce(sum(t.total), 0) FROM timesheets t
        WHERE t.council_id = a.council_id AND t.budget_id = a.budget_id
          AND t.deployment = a.deployment AND t.status = 'approved'
          AND NOT EXISTS (SELECT 1 FROM payroll_payslip_claims c
                          WHERE c.council_id = t.council_id AND c.budget_id = t.budget_id
                            AND c.payee_id = t.payee_id
                            AND t.week_ending BETWEEN c.period_start AND c.period_end)) AS payroll
FROM budget_accounts a
JOIN ledger_accounts la ON la.council_id = a.council_id AND la.id = a.account_id
JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
WHERE a.council_id = $1 AND a.purpose = 'deployment'
  AND a.deployment IN ('direct_payment', 'managed_account', 'isf')
  AND ($2::uuid IS NULL OR a.account_id = $2)
ORDER BY b.reference, a.deployment, a.account_id";

async fn items(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Option<Uuid>,
    as_of: NaiveDate,
) -> AppResult<Vec<(SurplusItem, Commitments)>> {
    let policy = super::policy::current(tx, council_id).await?;
    let rows = tx
        .query(
            &tx.prepare_cached(ITEMS).await?,
            &[&council_id, &account_id, &as_of],
        )
        .await?;
    let funders = funding::all(tx, council_id).await?;
    rows.iter()
        .map(|row| {
            let budget_id: Uuid = row.try_get(1)?;
            let deployment: String = row.try_get(2)?;
            let balance: Decimal = row.try_get(5)?;
            let weekly: Decimal = row.try_get(6)?;
            let commitments = Commitments {
                holds: row.try_get(7)?,
                invoices: row.try_get(8)?,
                payroll: row.try_get(9)?,
            };
            let threshold = threshold_weeks(&policy, &deployment);
            let assessed = assess(balance, weekly, threshold, commitments.total());
            let surplus = money(assessed.surplus)?;
            Ok((
                SurplusItem {
                    by_funder: split(surplus, funders.get(&budget_id)),
                    account_id: row.try_get(0)?,
                    budget_id,
                    deployment,
                    budget_reference: row.try_get(3)?,
                    person_name: row.try_get(4)?,
                    balance: money(balance)?,
                    weekly_amount: money(weekly)?,
                    weeks_of_funding: assessed.weeks_of_funding,
                    commitments: money(commitments.total())?,
                    threshold_weeks: threshold,
                    surplus,
                },
                commitments,
            ))
        })
        .collect()
}

/// An amount apportioned between a budget's funders (the council alone without recorded funding).
fn split(amount: Money, parts: Option<&Vec<FundingPart>>) -> Vec<FunderAmount> {
    let parts = match parts {
        Some(parts) if !parts.is_empty() => parts.clone(),
        _ => funding::single(FundingSource::Council, Decimal::ZERO),
    };
    funding::apportion(amount, &funding::shares(&parts))
        .into_iter()
        .zip(parts)
        .map(|(amount, p)| FunderAmount {
            funder: p.funder,
            name: p.name,
            amount,
        })
        .collect()
}

/// Who may read the surplus list and every notice.
const READERS: &[Role] = &[Role::FinanceOfficer, Role::Auditor, Role::CareManager];

/// The surplus list as of a day (not after today).
pub async fn list(
    tx: &Tx<'_>,
    actor: &Actor,
    as_of: NaiveDate,
    today: NaiveDate,
) -> AppResult<Vec<SurplusItem>> {
    actor.require(READERS)?;
    if as_of > today {
        return Err(AppError::invalid("as_of", "must not be after today"));
    }
    Ok(items(tx, actor.council_id, None, as_of)
        .await?
        .into_iter()
        .map(|(item, _)| item)
        .collect())
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Issued (or upheld or reduced on reconsideration): recoverable after the deadline.
    Issued,
    /// A request for reconsideration is open: nothing is recovered until it is decided.
    UnderReconsideration,
    Withdrawn,
    /// Some was recovered; the rest could not be without leaving commitments unmet.
    PartRecovered,
    Recovered,
}

impl NoticeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Issued => "issued",
            NoticeStatus::UnderReconsideration => "under_reconsideration",
            NoticeStatus::Withdrawn => "withdrawn",
            NoticeStatus::PartRecovered => "part_recovered",
            NoticeStatus::Recovered => "recovered",
        }
    }
    fn parse(text: &str) -> AppResult<Self> {
        Ok(match text {
            "issued" => NoticeStatus::Issued,
            "under_reconsideration" => NoticeStatus::UnderReconsideration,
            "withdrawn" => NoticeStatus::Withdrawn,
            "part_recovered" => NoticeStatus::PartRecovered,
            "recovered" => NoticeStatus::Recovered,
            other => return Err(AppError::Internal(format!("notice status {other}"))),
        })
    }
    /// Labels for people.
    pub fn label(self) -> &'static str {
        match self {
            NoticeStatus::Issued => "Issued",
            NoticeStatus::UnderReconsideration => "Under reconsideration",
            NoticeStatus::Withdrawn => "Withdrawn",
            NoticeStatus::PartRecovered => "Part recovered",
            NoticeStatus::Recovered => "Recovered",
        }
    }
}

/// What happened to a notice, in order.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeEvent {
    pub notice_id: Uuid,
    /// `issued`, `reconsideration_requested`, `decided` or `recovered`.
    pub kind: String,
    /// Decisions: `upheld`, `reduced` or `withdrawn`.
    pub outcome: Option<String>,
    /// Issued and decided: the amount owed after it; recovered: the amount taken.
    #[schema(value_type = Option<String>)]
    pub amount: Option<Money>,
    /// Recovered: what could not be taken without leaving commitments unmet.
    #[schema(value_type = Option<String>)]
    pub shortfall: Option<Money>,
    /// Recovered: the ledger entry.
    pub entry_id: Option<Uuid>,
    /// Reasons or grounds.
    pub text: Option<String>,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

/// A surplus notice.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurplusNotice {
    pub id: Uuid,
    pub status: NoticeStatus,
    pub budget_id: Uuid,
    pub account_id: Uuid,
    pub deployment: String,
    /// The amount asked for when issued.
    #[schema(value_type = String)]
    pub amount: Money,
    /// What is owed now (a reduced decision lowers it; recoveries do not).
    #[schema(value_type = String)]
    pub amount_due: Money,
    /// Recovered so far.
    #[schema(value_type = String)]
    pub recovered: Money,
    pub reasons: String,
    /// The figures it was worked out from when issued.
    #[schema(value_type = String)]
    pub balance: Money,
    #[schema(value_type = String)]
    pub weekly_amount: Money,
    #[schema(value_type = Option<String>)]
    pub weeks_of_funding: Option<Decimal>,
    #[schema(value_type = String)]
    pub commitments: Money,
    pub threshold_weeks: u32,
    #[schema(value_type = String)]
    pub surplus: Money,
    pub policy_version: i32,
    pub issued_on: NaiveDate,
    /// The last day of the notice period: nothing is recovered on or before it.
    pub deadline: NaiveDate,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
    /// The letter exactly as sent.
    pub letter: String,
    /// SHA-256 (hex) of `letter`'s UTF-8 bytes.
    pub letter_sha256: String,
    pub events: Vec<NoticeEvent>,
}

const NOTICE_COLUMNS: &str = "id, status, budget_id, account_id, deployment, amount, amount_due,
    recovered, reasons, balance, weekly_amount, weeks_of_funding, commitments, threshold_weeks,
    surplus, policy_version, issued_on, deadline, issued_by, issued_at, letter, letter_sha256";

fn notice_from_row(row: &tokio_postgres::Row) -> AppResult<SurplusNotice> {
    let threshold: i32 = row.try_get(13)?;
    Ok(SurplusNotice {
        id: row.try_get(0)?,
        status: NoticeStatus::parse(row.try_get(1)?)?,
        budget_id: row.try_get(2)?,
        account_id: row.try_get(3)?,
        deployment: row.try_get(4)?,
        amount: money(row.try_get(5)?)?,
        amount_due: money(row.try_get(6)?)?,
        recovered: money(row.try_get(7)?)?,
        reasons: row.try_get(8)?,
        balance: money(row.try_get(9)?)?,
        weekly_amount: money(row.try_get(10)?)?,
        weeks_of_funding: row.try_get(11)?,
        commitments: money(row.try_get(12)?)?,
        threshold_weeks: u32::try_from(threshold).unwrap_or_default(),
        surplus: money(row.try_get(14)?)?,
        policy_version: row.try_get(15)?,
        issued_on: row.try_get(16)?,
        deadline: row.try_get(17)?,
        issued_by: row.try_get(18)?,
        issued_at: row.try_get(19)?,
        letter: row.try_get(20)?,
        letter_sha256: row.try_get(21)?,
        events: Vec::new(),
    })
}

const EVENT_COLUMNS: &str =
    "notice_id, kind, outcome, amount, shortfall, entry_id, text, actor_id, at";

fn event_from_row(row: &tokio_postgres::Row) -> AppResult<NoticeEvent> {
    let amount: Option<Decimal> = row.try_get(3)?;
    let shortfall: Option<Decimal> = row.try_get(4)?;
    Ok(NoticeEvent {
        notice_id: row.try_get(0)?,
        kind: row.try_get(1)?,
        outcome: row.try_get(2)?,
        amount: amount.map(money).transpose()?,
        shortfall: shortfall.map(money).transpose()?,
        entry_id: row.try_get(5)?,
        text: row.try_get(6)?,
        actor_id: row.try_get(7)?,
        at: row.try_get(8)?,
    })
}

/// A notice with its events, locked when `lock` (for a change).
async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid, lock: bool) -> AppResult<SurplusNotice> {
    let sql = format!(
        "SELECT {NOTICE_COLUMNS} FROM surplus_notices WHERE council_id = $1 AND id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = tx
        .query_opt(&sql, &[&council_id, &id])
        .await?
        .ok_or(AppError::NotFound)?;
    let mut notice = notice_from_row(&row)?;
    let rows = tx
        .query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM surplus_notice_events
                 WHERE council_id = $1 AND notice_id = $2 ORDER BY seq"
            ),
            &[&council_id, &id],
        )
        .await?;
    notice.events = rows.iter().map(event_from_row).collect::<AppResult<_>>()?;
    Ok(notice)
}

async fn can_see_account(tx: &Tx<'_>, actor: &Actor, account_id: Uuid) -> AppResult<bool> {
    Ok(tx
        .query_one(
            "SELECT can_see_account($1, $2, $3)",
            &[&actor.council_id, &actor.user_id, &account_id],
        )
        .await?
        .try_get(0)?)
}

/// A notice as its reader may see it: council finance officers, auditors and care managers any
/// notice; the person, their representatives and the holder's staff the notices on accounts they
/// may see (404 otherwise).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<SurplusNotice> {
    let notice = load(tx, actor.council_id, id, false).await?;
    if READERS.contains(&actor.role) || can_see_account(tx, actor, notice.account_id).await? {
        Ok(notice)
    } else {
        Err(AppError::NotFound)
    }
}

/// A notice to issue.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    pub account_id: Uuid,
    /// At most the account's surplus now.
    #[schema(value_type = String, example = "250.00")]
    pub amount: Money,
    /// Why, in plain words (1 to 2000 characters); printed in the letter.
    pub reasons: String,
}

fn text_field(field: &str, text: &str, max: usize) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("1 to {max} characters of text"),
        ));
    }
    Ok(text.to_owned())
}

fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn pounds(value: Money) -> String {
    format!("£{value}")
}

fn deployment_words(deployment: &str) -> &'static str {
    match deployment {
        "isf" => "Individual Service Fund",
        "managed_account" => "managed account",
        _ => "direct payment account",
    }
}

/// What the letter needs beyond the notice's own figures.
struct LetterFacts {
    council_name: String,
    person_name: String,
    budget_reference: String,
    holder_name: String,
    commitments: Commitments,
}

/// The letter in plain words. Stored exactly as produced, with its SHA-256.
fn letter(notice: &SurplusNotice, facts: &LetterFacts) -> AppResult<String> {
    let first_day = notice
        .deadline
        .checked_add_days(Days::new(1))
        .ok_or_else(|| AppError::invalid("deadline", "is too far in the future"))?;
    let weeks = notice
        .weeks_of_funding
        .map_or_else(|| "no weekly amount".to_owned(), |w| format!("{w} weeks"));
    let account = deployment_words(&notice.deployment);
    let c = &facts.commitments;
    Ok(format!(
        "{council}\n\
         Notice of surplus in your personal budget\n\
         \n\
         To: {person}\n\
         Personal budget: {reference}\n\
         Account: {account} held by {holder}\n\
         Date of this notice: {issued}\n\
         Notice number: {id}\n\
         \n\
         What we are asking for\n\
         We have found that the {account} holds more money than is needed for your support. \
         We intend to take back {amount}.\n\
         \n\
         Why\n\
         {reasons}\n\
         \n\
         How we worked it out\n\
         Balance on {issued}: {balance}.\n\
         Your support plan pays {weekly} a week, so the balance is {weeks} of payments.\n\
         Our policy is that the account may keep up to {threshold} weeks of payments ({kept}).\n\
         Money already owed from the account is never taken back: {commitments} in all \
         (payments waiting for approval {holds}, invoices not yet paid {invoices}, wages due to \
         personal assistants {payroll}).\n\
         Balance {balance} less money owed {commitments} less {threshold} weeks {kept} leaves a \
         surplus of {surplus}. We are asking for {amount}.\n\
         \n\
         What happens next\n\
         You have until {deadline} to tell us if you disagree. Nobody needs to pay anything: if \
         you do not ask us to reconsider, the council will take {amount} back from the {account} \
         on or after {first_day}. We will never take so much that the account cannot pay what it \
         already owes; if there is not enough, we take less and tell you.\n\
         \n\
         How to ask us to reconsider\n\
         Before {deadline}, the person, their representative or the {account}'s holder can ask us \
         to reconsider by choosing \"Ask us to reconsider\" on this notice in allot, or by \
         writing to {council} quoting notice number {id}. Say why you think the amount is wrong, \
         for example money set aside for care you have booked. Nothing is taken back while we \
         reconsider, and someone other than the officer who sent this notice will decide and \
         write to you with the reasons.\n",
        council = facts.council_name,
        person = facts.person_name,
        reference = facts.budget_reference,
        holder = facts.holder_name,
        issued = long_date(notice.issued_on),
        id = notice.id,
        amount = pounds(notice.amount),
        reasons = notice.reasons,
        balance = pounds(notice.balance),
        weekly = pounds(notice.weekly_amount),
        threshold = notice.threshold_weeks,
        kept = pounds(money(
            notice.weekly_amount.amount() * Decimal::from(notice.threshold_weeks)
        )?),
        commitments = pounds(notice.commitments),
        holds = pounds(money(c.holds)?),
        invoices = pounds(money(c.invoices)?),
        payroll = pounds(money(c.payroll)?),
        surplus = pounds(notice.surplus),
        deadline = long_date(notice.deadline),
        first_day = long_date(first_day),
    ))
}

/// Issues a notice (finance officers): 404 for a budget or account not of this council (or not
/// a direct payment, managed account or ISF of that budget), 422 `exceeds_surplus` above the
/// surplus now, 409 while another notice on the account is open.
pub async fn issue(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    new: &NewNotice,
    now: DateTime<Utc>,
) -> AppResult<SurplusNotice> {
    actor.require(&[Role::FinanceOfficer])?;
    let council_id = actor.council_id;
    let budget = super::budget::load::visible_for_update(tx, actor, budget_id).await?;
    let reasons = text_field("reasons", &new.reasons, 2000)?;
    if !new.amount.is_positive() {
        return Err(AppError::invalid_amount("amount", "must be more than 0.00"));
    }
    let today = crate::clock::london_date(now);
    let found = items(tx, council_id, Some(new.account_id), today).await?;
    let Some((item, commitments)) = found.into_iter().find(|(i, _)| i.budget_id == budget.id)
    else {
        return Err(AppError::NotFound);
    };
    let open: i64 = tx
        .query_one(
            "SELECT count(*) FROM surplus_notices
             WHERE council_id = $1 AND account_id = $2
               AND status IN ('issued', 'under_reconsideration', 'part_recovered')",
            &[&council_id, &new.account_id],
        )
        .await?
        .try_get(0)?;
    if open > 0 {
        return Err(AppError::conflict(
            "A notice on this account is still open: withdraw or recover it first.",
        ));
    }
    if new.amount.amount() > item.surplus.amount() {
        return Err(AppError::refused(
            "exceeds_surplus",
            format!(
                "The amount is more than the account's surplus now ({}).",
                item.surplus
            ),
        ));
    }
    let policy = super::policy::current(tx, council_id).await?;
    let deadline = today
        .checked_add_days(Days::new(u64::from(policy.surplus_notice_weeks) * 7))
        .ok_or_else(|| AppError::invalid("deadline", "is too far in the future"))?;
    let facts = tx
        .query_one(
            "SELECT c.name, p.name,
                    coalesce(o.name, CASE a.holder_kind WHEN 'council' THEN c.name ELSE p.name END)
             FROM budget_accounts a
             JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
             JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             JOIN councils c ON c.id = a.council_id
             LEFT JOIN organisations o ON o.council_id = a.council_id AND o.id = a.holder_organisation_id
             WHERE a.council_id = $1 AND a.account_id = $2",
            &[&council_id, &item.account_id],
        )
        .await?;
    let facts = LetterFacts {
        council_name: facts.try_get(0)?,
        person_name: facts.try_get(1)?,
        holder_name: facts.try_get(2)?,
        budget_reference: budget.reference.clone(),
        commitments,
    };
    let mut notice = SurplusNotice {
        id: Uuid::new_v4(),
        status: NoticeStatus::Issued,
        budget_id: budget.id,
        account_id: item.account_id,
        deployment: item.deployment.clone(),
        amount: new.amount,
        amount_due: new.amount,
        recovered: Money::ZERO,
        reasons,
        balance: item.balance,
        weekly_amount: item.weekly_amount,
        weeks_of_funding: item.weeks_of_funding,
        commitments: item.commitments,
        threshold_weeks: item.threshold_weeks,
        surplus: item.surplus,
        policy_version: policy.version,
        issued_on: today,
        deadline,
        issued_by: actor.user_id,
        issued_at: now,
        letter: String::new(),
        letter_sha256: String::new(),
        events: Vec::new(),
    };
    notice.letter = letter(&notice, &facts)?;
    notice.letter_sha256 =
        hex::encode(ring::digest::digest(&ring::digest::SHA256, notice.letter.as_bytes()).as_ref());
    let threshold = i32::try_from(notice.threshold_weeks).unwrap_or(i32::MAX);
    tx.execute(
        "INSERT INTO surplus_notices (council_id, id, budget_id, account_id, deployment, amount,
             amount_due, reasons, balance, weekly_amount, weeks_of_funding, commitments,
             threshold_weeks, surplus, policy_version, issued_on, deadline, issued_by, issued_at,
             letter, letter_sha256, status)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, 'issued')",
        &[
            &council_id,
            &notice.id,
            &notice.budget_id,
            &notice.account_id,
            &notice.deployment,
            &notice.amount.amount(),
            &notice.reasons,
            &notice.balance.amount(),
            &notice.weekly_amount.amount(),
            &notice.weeks_of_funding,
            &notice.commitments.amount(),
            &threshold,
            &notice.surplus.amount(),
            &notice.policy_version,
            &notice.issued_on,
            &notice.deadline,
            &notice.issued_by,
            &notice.issued_at,
            &notice.letter,
            &notice.letter_sha256,
        ],
    )
    .await?;
    event(
        tx,
        council_id,
        notice.id,
        Event {
            kind: "issued",
            amount: Some(notice.amount.amount()),
            text: Some(&notice.reasons),
            ..Event::default()
        },
        actor.user_id,
        now,
    )
    .await?;
    load(tx, council_id, notice.id, false).await
}

#[derive(Default)]
struct Event<'a> {
    kind: &'a str,
    outcome: Option<&'a str>,
    amount: Option<Decimal>,
    shortfall: Option<Decimal>,
    entry_id: Option<Uuid>,
    text: Option<&'a str>,
}

async fn event(
    tx: &Tx<'_>,
    council_id: Uuid,
    notice_id: Uuid,
    e: Event<'_>,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO surplus_notice_events (council_id, id, notice_id, kind, outcome, amount,
             shortfall, entry_id, text, actor_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &council_id,
            &Uuid::new_v4(),
            &notice_id,
            &e.kind,
            &e.outcome,
            &e.amount,
            &e.shortfall,
            &e.entry_id,
            &e.text,
            &actor_id,
            &now,
        ],
    )
    .await?;
    Ok(())
}

async fn set_status(
    tx: &Tx<'_>,
    council_id: Uuid,
    id: Uuid,
    status: NoticeStatus,
    amount_due: Decimal,
    recovered: Decimal,
) -> AppResult<()> {
    tx.execute(
        "UPDATE surplus_notices SET status = $3, amount_due = $4, recovered = $5
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &id, &status.as_str(), &amount_due, &recovered],
    )
    .await?;
    Ok(())
}

/// A request to reconsider.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reconsideration {
    /// Why the notice is wrong (1 to 2000 characters).
    pub grounds: String,
}

/// Asks for the notice to be reconsidered: the person, a representative with a grant on the
/// budget, or staff of the organisation holding the account (404 for a notice on an account they
/// may not see; 403 for other roles). 409 unless the notice is issued or part recovered.
pub async fn reconsider(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    request: &Reconsideration,
    now: DateTime<Utc>,
) -> AppResult<SurplusNotice> {
    let council_id = actor.council_id;
    let notice = load(tx, council_id, id, true).await?;
    if !matches!(
        actor.role,
        Role::BudgetHolder | Role::Representative | Role::ProviderStaff
    ) {
        return if READERS.contains(&actor.role) {
            Err(AppError::Forbidden)
        } else {
            Err(AppError::NotFound)
        };
    }
    if !can_see_account(tx, actor, notice.account_id).await? {
        return Err(AppError::NotFound);
    }
    let grounds = text_field("grounds", &request.grounds, 2000)?;
    if !matches!(
        notice.status,
        NoticeStatus::Issued | NoticeStatus::PartRecovered
    ) {
        return Err(AppError::conflict(format!(
            "This notice is {}: it cannot be reconsidered now.",
            notice.status.label().to_lowercase()
        )));
    }
    set_status(
        tx,
        council_id,
        id,
        NoticeStatus::UnderReconsideration,
        notice.amount_due.amount(),
        notice.recovered.amount(),
    )
    .await?;
    event(
        tx,
        council_id,
        id,
        Event {
            kind: "reconsideration_requested",
            text: Some(&grounds),
            ..Event::default()
        },
        actor.user_id,
        now,
    )
    .await?;
    load(tx, council_id, id, false).await
}

/// A decision on reconsideration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Upheld,
    Reduced,
    Withdrawn,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Upheld => "upheld",
            Outcome::Reduced => "reduced",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub outcome: Outcome,
    /// `reduced` only: the new amount owed, more than zero and less than before.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub amount: Option<Money>,
    /// Why (1 to 2000 characters).
    pub reasons: String,
}

/// Decides a reconsideration (care managers and finance officers; never the officer who issued
/// the notice: 403 `approver_conflict`). 409 unless one is open.
pub async fn decide(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    decision: &Decision,
    now: DateTime<Utc>,
) -> AppResult<SurplusNotice> {
    actor.require(&[Role::CareManager, Role::FinanceOfficer])?;
    let council_id = actor.council_id;
    let notice = load(tx, council_id, id, true).await?;
    if notice.issued_by == actor.user_id {
        return Err(AppError::Denied {
            code: "approver_conflict",
            message: "Someone other than the officer who issued the notice decides on it.".into(),
        });
    }
    let reasons = text_field("reasons", &decision.reasons, 2000)?;
    let due = notice.amount_due.amount();
    let (status, new_due) = match (decision.outcome, decision.amount) {
        (Outcome::Reduced, None) => {
            return Err(AppError::invalid("amount", "give the reduced amount owed"))
        }
        (Outcome::Reduced, Some(amount)) => {
            if !amount.is_positive()
                || amount.amount() >= due
                || amount.amount() < notice.recovered.amount()
            {
                return Err(AppError::invalid_amount(
                    "amount",
                    format!("more than 0.00, not below what was recovered, and less than {due}"),
                ));
            }
            (NoticeStatus::Issued, amount.amount())
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "amount",
                "only a reduced decision gives an amount",
            ))
        }
        (Outcome::Upheld, None) => (NoticeStatus::Issued, due),
        (Outcome::Withdrawn, None) => (NoticeStatus::Withdrawn, due),
    };
    if notice.status != NoticeStatus::UnderReconsideration {
        return Err(AppError::conflict(
            "No reconsideration of this notice is waiting for a decision.",
        ));
    }
    let status = if status == NoticeStatus::Issued && notice.recovered.amount() > Decimal::ZERO {
        if notice.recovered.amount() >= new_due {
            NoticeStatus::Recovered
        } else {
            NoticeStatus::PartRecovered
        }
    } else {
        status
    };
    set_status(
        tx,
        council_id,
        id,
        status,
        new_due,
        notice.recovered.amount(),
    )
    .await?;
    event(
        tx,
        council_id,
        id,
        Event {
            kind: "decided",
            outcome: Some(decision.outcome.as_str()),
            amount: Some(new_due),
            text: Some(&reasons),
            ..Event::default()
        },
        actor.user_id,
        now,
    )
    .await?;
    load(tx, council_id, id, false).await
}

/// A recovery made.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recovery {
    pub notice_id: Uuid,
    /// The ledger entry from the account to the council's recovered-funds account.
    pub entry_id: Uuid,
    pub from_account_id: Uuid,
    pub to_account_id: Uuid,
    /// What was taken now.
    #[schema(value_type = String)]
    pub amount: Money,
    /// What was owed and could not be taken without leaving commitments unmet.
    #[schema(value_type = String)]
    pub shortfall: Money,
    /// The account's commitments at the moment of recovery.
    #[schema(value_type = String)]
    pub commitments: Money,
    /// What was taken, apportioned between the budget's funders: the council's share goes to the
    /// council's recovered-funds account, the NHS's and other funds' back to their funding
    /// accounts.
    pub by_funder: Vec<FunderAmount>,
    pub status: NoticeStatus,
    pub effective_date: NaiveDate,
}

/// Recovers what the notice asks for (finance officers), after its deadline: 422
/// `notice_period_not_elapsed` on or before it, `under_reconsideration` while one is open,
/// `below_commitments` when the account holds no more than its commitments; 409 for a notice
/// withdrawn or recovered. Takes at most the balance less commitments, and records the rest as
/// the shortfall.
pub async fn recover(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Recovery> {
    actor.require(&[Role::FinanceOfficer])?;
    let council_id = actor.council_id;
    let notice = load(tx, council_id, id, true).await?;
    let today = crate::clock::london_date(now);
    match notice.status {
        NoticeStatus::UnderReconsideration => {
            return Err(AppError::refused(
                "under_reconsideration",
                "A request for reconsideration is open: nothing is recovered until it is decided.",
            ))
        }
        NoticeStatus::Withdrawn | NoticeStatus::Recovered => {
            return Err(AppError::conflict(format!(
                "This notice is {}: there is nothing to recover.",
                notice.status.label().to_lowercase()
            )))
        }
        NoticeStatus::Issued | NoticeStatus::PartRecovered => {}
    }
    if today <= notice.deadline {
        return Err(AppError::refused(
            "notice_period_not_elapsed",
            format!(
                "The notice period runs to {}: recovery is possible from the day after.",
                notice.deadline
            ),
        ));
    }
    // The account locked first, so its commitments cannot change before the entry posts.
    ledger::lock_accounts(tx, council_id, &[notice.account_id]).await?;
    let (item, commitments) = items(tx, council_id, Some(notice.account_id), today)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("the notice's account is missing".into()))?;
    let balance = ledger::balances(tx, council_id, notice.account_id)
        .await?
        .posted_balance;
    let owed = notice.amount_due.amount() - notice.recovered.amount();
    let can_take = (balance - commitments.total()).max(Decimal::ZERO);
    let take = owed.min(can_take);
    if take <= Decimal::ZERO {
        return Err(AppError::refused(
            "below_commitments",
            format!(
                "The account holds {balance} and owes {}: nothing can be taken without leaving it \
                 short.",
                item.commitments
            ),
        ));
    }
    let shortfall = owed - take;
    let to_account = council_account(tx, council_id, CouncilPurpose::RecoveredFunds).await?;
    let mut parts = funding::of_budget(tx, council_id, notice.budget_id).await?;
    if parts.is_empty() {
        parts = funding::single(FundingSource::Council, Decimal::ZERO);
    }
    let by_funder = split(money(take)?, Some(&parts));
    let mut legs = vec![NewLeg {
        account_id: notice.account_id,
        side: Side::Debit,
        amount: take,
    }];
    for (share, part) in by_funder.iter().zip(&parts) {
        if share.amount.amount() <= Decimal::ZERO {
            continue;
        }
        let account_id = match share.funder {
            FundingSource::Council => to_account,
            _ => funding::funder_account(tx, council_id, part).await?,
        };
        match legs
            .iter_mut()
            .find(|l| l.account_id == account_id && l.side == Side::Credit)
        {
            Some(leg) => leg.amount += share.amount.amount(),
            None => legs.push(NewLeg {
                account_id,
                side: Side::Credit,
                amount: share.amount.amount(),
            }),
        }
    }
    let entry = ledger::post_in_tx(
        tx,
        council_id,
        &NewEntry {
            effective_date: today,
            description: format!("Surplus recovered under notice {id}"),
            legs,
            metadata: json!({
                "requested_by": {"user_id": actor.user_id, "role": actor.role, "name": actor.name},
                "decision": {"outcome": "allowed", "action": "surplus_recovery"},
                "surplus_notice_id": id,
                "commitments": commitments.total().to_string(),
                "shortfall": shortfall.to_string(),
                "funders": by_funder,
            }),
            reverses: None,
        },
    )
    .await?;
    let recovered = notice.recovered.amount() + take;
    let status = if shortfall > Decimal::ZERO {
        NoticeStatus::PartRecovered
    } else {
        NoticeStatus::Recovered
    };
    set_status(
        tx,
        council_id,
        id,
        status,
        notice.amount_due.amount(),
        recovered,
    )
    .await?;
    event(
        tx,
        council_id,
        id,
        Event {
            kind: "recovered",
            amount: Some(take),
            shortfall: Some(shortfall),
            entry_id: Some(entry.id),
            ..Event::default()
        },
        actor.user_id,
        now,
    )
    .await?;
    Ok(Recovery {
        notice_id: id,
        entry_id: entry.id,
        from_account_id: notice.account_id,
        to_account_id: to_account,
        amount: money(take)?,
        shortfall: money(shortfall)?,
        commitments: money(commitments.total())?,
        by_funder,
        status,
        effective_date: today,
    })
}

/// The notices of a budget, newest first (for the budget's decision log).
pub async fn of_budget(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
) -> AppResult<Vec<SurplusNotice>> {
    let rows = tx
        .query(
            "SELECT id FROM surplus_notices
             WHERE council_id = $1 AND budget_id = $2 AND can_see_account($1, $3, account_id)
             ORDER BY issued_at DESC, id",
            &[&actor.council_id, &budget_id, &actor.user_id],
        )
        .await?;
    let mut notices = Vec::with_capacity(rows.len());
    for row in rows {
        notices.push(load(tx, actor.council_id, row.try_get(0)?, false).await?);
    }
    Ok(notices)
}

/// Every notice of the council, newest first (finance officers, auditors, care managers).
pub async fn all(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<SurplusNotice>> {
    actor.require(READERS)?;
    let rows = tx
        .query(
            &format!(
                "SELECT {NOTICE_COLUMNS} FROM surplus_notices WHERE council_id = $1
                 ORDER BY issued_at DESC, id LIMIT 500"
            ),
            &[&actor.council_id],
        )
        .await?;
    rows.iter().map(notice_from_row).collect()
}
