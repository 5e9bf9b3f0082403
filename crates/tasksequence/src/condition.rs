//! Condition evaluation.
//!
//! A `<condition>` holds operators (`and`, `or`, `not`) and expressions of the
//! `SMS_TaskSequence_*ConditionExpression` classes. Semantics, from the Configuration Manager
//! SDK and console:
//! - the items directly under `<condition>` must all hold (AND);
//! - `and`: all operands hold; `or`: at least one does; `not`: *none* of its operands holds
//!   (the console's "If none of the conditions are true");
//! - variable expressions compare text case-insensitively, numerically when both sides are
//!   numbers; an unset variable compares as the empty string; `like` is WQL's: `%` any run,
//!   `_` one character, `[abc]`/`[a-z]`/`[^abc]` sets, case-insensitive;
//! - file and folder paths expand `%VAR%`; `DateTime` is a CIM datetime
//!   (`yyyymmddHHMMSS.mmmmmm+UUU`) compared with the last write time at one-second precision;
//!   `Version` compares dotted numbers;
//! - registry `exists`/`notExists` test the value (or the key when `Value` is empty) and its
//!   `Type`; the comparison operators compare `Data` with the value, ignoring `Type`;
//! - software `AnyVersion` matches the upgrade code (else the product code), `ExactVersion`
//!   the product code and version.
//!
//! **Unknown results.** An expression the host cannot answer — WMI, registry or software on a
//! host without them ([`crate::host::NotAvailable`]), a probe I/O error, an unknown expression
//! class or operator, a missing parameter — evaluates to [`Truth::Unknown`], with a note
//! saying why. Unknown combines by Kleene logic (`false AND unknown` is false,
//! `true OR unknown` is true, `not unknown` is unknown). A condition that ends unknown is
//! **not met**: the engine skips the step or group and logs the notes as warnings. This way a
//! `not` around an unanswerable WMI query does not silently run a step.

use std::cmp::Ordering;

use tsmedia_base::civil_time::days_from_civil;

use crate::host::{Answer, HostProbe, SystemQuery};
use crate::model::{Condition, ConditionNode, Expression, ExpressionKind, Operator};
use crate::variables::Variables;

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Cannot be decided on this host.
    Unknown,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// Whether the condition counts as met (only `True` does).
    pub fn is_met(self) -> bool {
        self == Truth::True
    }
}

/// What conditions are evaluated against.
pub struct ConditionContext<'a> {
    /// The task sequence variables.
    pub env: &'a Variables,
    /// Files and folders.
    pub host: &'a dyn HostProbe,
    /// WMI, registry, software.
    pub system: &'a dyn SystemQuery,
}

/// The result of evaluating a condition, with notes on every unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The outcome.
    pub truth: Truth,
    /// Why parts of the condition were unknown, in evaluation order.
    pub notes: Vec<String>,
}

/// Evaluates a whole `<condition>`.
pub fn evaluate(condition: &Condition, ctx: &ConditionContext) -> Evaluation {
    let mut notes = Vec::new();
    let truth = all(&condition.items, ctx, &mut notes);
    Evaluation { truth, notes }
}

fn all(items: &[ConditionNode], ctx: &ConditionContext, notes: &mut Vec<String>) -> Truth {
    let mut out = Truth::True;
    for item in items {
        match node(item, ctx, notes) {
            Truth::False => return Truth::False,
            Truth::Unknown => out = Truth::Unknown,
            Truth::True => {}
        }
    }
    out
}

fn any(items: &[ConditionNode], ctx: &ConditionContext, notes: &mut Vec<String>) -> Truth {
    let mut out = Truth::False;
    for item in items {
        match node(item, ctx, notes) {
            Truth::True => return Truth::True,
            Truth::Unknown => out = Truth::Unknown,
            Truth::False => {}
        }
    }
    out
}

fn node(n: &ConditionNode, ctx: &ConditionContext, notes: &mut Vec<String>) -> Truth {
    match n {
        ConditionNode::Operator(op) => operator(op, ctx, notes),
        ConditionNode::Expression(e) => expression(e, ctx, notes),
    }
}

fn operator(op: &Operator, ctx: &ConditionContext, notes: &mut Vec<String>) -> Truth {
    match op.op.to_ascii_lowercase().as_str() {
        "and" => all(&op.children, ctx, notes),
        "or" => any(&op.children, ctx, notes),
        "not" => any(&op.children, ctx, notes).not(),
        other => {
            notes.push(format!("unknown condition operator {other:?}"));
            Truth::Unknown
        }
    }
}

fn expression(e: &Expression, ctx: &ConditionContext, notes: &mut Vec<String>) -> Truth {
    let result = match e.kind() {
        ExpressionKind::Variable => variable_expression(e, ctx),
        ExpressionKind::File => file_expression(e, ctx),
        ExpressionKind::Folder => folder_expression(e, ctx),
        ExpressionKind::Registry => registry_expression(e, ctx),
        ExpressionKind::Wmi => wmi_expression(e, ctx),
        ExpressionKind::Software => software_expression(e, ctx),
        ExpressionKind::Unknown => Err(format!(
            "condition expression type {:?} is not supported",
            e.expression_type
        )),
    };
    match result {
        Ok(b) => Truth::from_bool(b),
        Err(reason) => {
            notes.push(reason);
            Truth::Unknown
        }
    }
}

type Outcome = Result<bool, String>;

fn param<'e>(e: &'e Expression, name: &str) -> Result<&'e str, String> {
    e.parameter(name)
        .ok_or_else(|| format!("{} has no {name} parameter", e.expression_type))
}

fn optional<'e>(e: &'e Expression, name: &str) -> Option<&'e str> {
    e.parameter(name).filter(|v| !v.trim().is_empty())
}

fn variable_expression(e: &Expression, ctx: &ConditionContext) -> Outcome {
    let name = param(e, "Variable")?;
    let op = param(e, "Operator")?;
    match op.to_ascii_lowercase().as_str() {
        "exists" => return Ok(ctx.env.contains(name)),
        "notexists" => return Ok(!ctx.env.contains(name)),
        _ => {}
    }
    let actual = ctx.env.get(name).unwrap_or("");
    let expected = e.parameter("Value").unwrap_or("");
    if op.eq_ignore_ascii_case("like") {
        return Ok(like(actual, expected));
    }
    compare_op(op, compare_values(actual, expected))
        .ok_or_else(|| format!("unknown variable condition operator {op:?}"))
}

/// Applies a comparison operator name to an ordering; `None` for an unknown operator.
fn compare_op(op: &str, ord: Ordering) -> Option<bool> {
    Some(match op.to_ascii_lowercase().as_str() {
        "equals" => ord == Ordering::Equal,
        "notequals" => ord != Ordering::Equal,
        "greater" => ord == Ordering::Greater,
        "greaterequal" => ord != Ordering::Less,
        "less" => ord == Ordering::Less,
        "lessequal" => ord != Ordering::Greater,
        _ => return None,
    })
}

/// Numbers compare as numbers, anything else as case-insensitive text.
pub fn compare_values(a: &str, b: &str) -> Ordering {
    let (ta, tb) = (a.trim(), b.trim());
    if let (Ok(x), Ok(y)) = (ta.parse::<i128>(), tb.parse::<i128>()) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (ta.parse::<f64>(), tb.parse::<f64>())
        && x.is_finite()
        && y.is_finite()
    {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// WQL `LIKE`, case-insensitive.
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    like_at(&t, &p)
}

fn like_at(t: &[char], p: &[char]) -> bool {
    // Iterative matcher with backtracking to the last `%`.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '%' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '_' => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                '[' => match set_match(&p[pi..], t[ti]) {
                    Some((true, len)) => {
                        ti += 1;
                        pi += len;
                        continue;
                    }
                    Some((false, _)) => {}
                    // An unterminated `[` is a literal.
                    None if t[ti] == '[' => {
                        ti += 1;
                        pi += 1;
                        continue;
                    }
                    None => {}
                },
                c if c == t[ti] => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

/// Matches `c` against a `[...]` set at the start of `p`: `Some((matched, pattern length))`,
/// `None` when the set is not terminated.
fn set_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let close = p.iter().skip(1).position(|&x| x == ']')? + 1;
    let body = &p[1..close];
    let (negate, body) = match body.first() {
        Some('^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            if body[i] <= c && c <= body[i + 2] {
                hit = true;
            }
            i += 3;
        } else {
            if body[i] == c {
                hit = true;
            }
            i += 1;
        }
    }
    Some((hit != negate, close + 1))
}

/// Compares dotted version numbers (`10.0.19041.1`); missing parts count as 0. `None` when a
/// part is not a number.
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let parse = |s: &str| -> Option<Vec<u64>> {
        s.trim().split('.').map(|p| p.trim().parse().ok()).collect()
    };
    let (x, y) = (parse(a)?, parse(b)?);
    for i in 0..x.len().max(y.len()) {
        let ord = x.get(i).unwrap_or(&0).cmp(y.get(i).unwrap_or(&0));
        if ord != Ordering::Equal {
            return Some(ord);
        }
    }
    Some(Ordering::Equal)
}

/// Seconds since 1970-01-01 UTC of a CIM datetime `yyyymmddHHMMSS.mmmmmm+UUU` (UUU: minutes
/// east of UTC, sign included). The fraction and offset may be absent.
pub fn parse_cim_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(8..10)?, digits(10..12)?, digits(12..14)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut offset_minutes = 0;
    if let Some(sign_at) = s.get(14..).and_then(|rest| rest.find(['+', '-'])) {
        let at = 14 + sign_at;
        let value: i64 = s.get(at + 1..)?.trim().parse().ok()?;
        offset_minutes = if &s[at..at + 1] == "-" { -value } else { value };
    }
    let days = days_from_civil(year, u8::try_from(month).ok()?, u8::try_from(day).ok()?);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60)
}

fn date_test(e: &Expression, modified: Option<i64>) -> Outcome {
    let (Some(when), Some(op)) = (optional(e, "DateTime"), optional(e, "DateTimeOperator")) else {
        return Ok(true);
    };
    let want = parse_cim_datetime(when).ok_or_else(|| {
        format!(
            "{}: DateTime {when:?} is not a CIM datetime",
            e.expression_type
        )
    })?;
    let have = modified.ok_or_else(|| {
        format!(
            "{}: the host does not know the time of {:?}",
            e.expression_type,
            e.parameter("Path")
        )
    })?;
    compare_op(op, have.cmp(&want)).ok_or_else(|| format!("unknown DateTimeOperator {op:?}"))
}

fn file_expression(e: &Expression, ctx: &ConditionContext) -> Outcome {
    let path = ctx.env.expand(param(e, "Path")?);
    let facts = ctx
        .host
        .file(&path)
        .map_err(|err| format!("cannot examine file {path:?}: {err}"))?;
    let Some(facts) = facts else {
        return Ok(false);
    };
    if let (Some(want), Some(op)) = (optional(e, "Version"), optional(e, "VersionOperator")) {
        let Some(have) = &facts.version else {
            return Ok(false);
        };
        let ord = compare_versions(have, want)
            .ok_or_else(|| format!("cannot compare file version {have:?} with {want:?}"))?;
        if !compare_op(op, ord).ok_or_else(|| format!("unknown VersionOperator {op:?}"))? {
            return Ok(false);
        }
    }
    date_test(e, facts.modified)
}

fn folder_expression(e: &Expression, ctx: &ConditionContext) -> Outcome {
    let path = ctx.env.expand(param(e, "Path")?);
    let facts = ctx
        .host
        .folder(&path)
        .map_err(|err| format!("cannot examine folder {path:?}: {err}"))?;
    match facts {
        None => Ok(false),
        Some(f) => date_test(e, f.modified),
    }
}

fn answer<T>(a: Answer<T>, what: &str) -> Result<T, String> {
    match a {
        Answer::Available(v) => Ok(v),
        Answer::Unavailable(reason) => Err(format!("{what}: {reason}")),
    }
}

fn registry_expression(e: &Expression, ctx: &ConditionContext) -> Outcome {
    let key = ctx.env.expand(param(e, "KeyPath")?);
    let op = param(e, "Operator")?;
    let value_name = e.parameter("Value").unwrap_or("");
    let what = format!("registry {key}\\{value_name}");
    let exists = match op.to_ascii_lowercase().as_str() {
        "exists" => true,
        "notexists" => false,
        _ => {
            let value = answer(ctx.system.registry_value(&key, value_name), &what)?;
            let Some(value) = value else {
                return Ok(false);
            };
            let data = e.parameter("Data").unwrap_or("");
            return compare_op(op, compare_values(&value.as_text(), data))
                .ok_or_else(|| format!("unknown registry condition operator {op:?}"));
        }
    };
    let found = if value_name.is_empty() {
        answer(ctx.system.registry_key_exists(&key), &what)?
    } else {
        match answer(ctx.system.registry_value(&key, value_name), &what)? {
            None => false,
            Some(v) => optional(e, "Type").is_none_or(|t| t.eq_ignore_ascii_case(v.type_name())),
        }
    };
    Ok(found == exists)
}

fn wmi_expression(e: &Expression, ctx: &ConditionContext) -> Outcome {
    let namespace = e.parameter("Namespace").unwrap_or("root\\cimv2");
    let query = param(e, "Query")?;
    answer(
        ctx.system.wmi_has_instances(namespace, query),
        &format!("WMI query {query:?}"),
    )
}

fn software_expression(e: &Expression, ctx: &ConditionContext) -> Outcome {
    let op = param(e, "Operator")?;
    let products = answer(ctx.system.installed_products(), "installed software")?;
    let product_code = optional(e, "ProductCode");
    let eq = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    match op.to_ascii_lowercase().as_str() {
        "anyversion" => {
            if let Some(upgrade) = optional(e, "UpgradeCode") {
                Ok(products
                    .iter()
                    .any(|p| p.upgrade_code.as_deref().is_some_and(|u| eq(u, upgrade))))
            } else {
                let code = product_code.ok_or("software condition has no ProductCode")?;
                Ok(products.iter().any(|p| eq(&p.product_code, code)))
            }
        }
        "exactversion" => {
            let code = product_code.ok_or("software condition has no ProductCode")?;
            let version = param(e, "Version")?;
            Ok(products
                .iter()
                .any(|p| eq(&p.product_code, code) && eq(&p.version, version)))
        }
        _ => Err(format!("unknown software condition operator {op:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_table() {
        for (text, pattern, want) in [
            ("MININT-ABC123", "MININT-%", true),
            ("minint-abc", "MININT-%", true),
            ("PC-MININT", "MININT-%", false),
            ("abc", "a_c", true),
            ("abbc", "a_c", false),
            ("abc", "%", true),
            ("", "%", true),
            ("", "_", false),
            ("Latitude 7440", "%7440%", true),
            ("Latitude 7450", "%7440%", false),
            ("b1", "[abc]1", true),
            ("d1", "[abc]1", false),
            ("d1", "[^abc]1", true),
            ("m", "[a-z]", true),
            ("[x", "[x", true),
            ("aXbXc", "a%b%c", true),
            ("aXbX", "a%b%c", false),
            ("mississippi", "%iss%ppi", true),
        ] {
            assert_eq!(like(text, pattern), want, "{text:?} like {pattern:?}");
        }
    }

    #[test]
    fn compare_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("10", "9", Greater),
            ("4096", "4096", Equal),
            ("-1", "0", Less),
            ("1.5", "1.25", Greater),
            ("abc", "ABC", Equal),
            ("b", "A", Greater),
            ("10", "9a", Less),
            ("", "0", Less),
        ] {
            assert_eq!(compare_values(a, b), want, "{a} vs {b}");
        }
        assert_eq!(compare_versions("10.0.19041.1", "10.0.9200"), Some(Greater));
        assert_eq!(compare_versions("1.2", "1.2.0.0"), Some(Equal));
        assert_eq!(compare_versions("1.x", "1"), None);
    }

    #[test]
    fn cim_datetimes() {
        assert_eq!(parse_cim_datetime("19700101000000.000000+000"), Some(0));
        assert_eq!(
            parse_cim_datetime("20240115120000.000000+000"),
            Some(1_705_320_000)
        );
        // 13:00 at UTC+60 minutes is 12:00 UTC.
        assert_eq!(
            parse_cim_datetime("20240115130000.000000+060"),
            Some(1_705_320_000)
        );
        assert_eq!(
            parse_cim_datetime("20240115110000.000000-060"),
            Some(1_705_320_000)
        );
        assert_eq!(parse_cim_datetime("20240115120000"), Some(1_705_320_000));
        assert_eq!(parse_cim_datetime("2024-01-15"), None);
        assert_eq!(parse_cim_datetime("20241315120000"), None);
    }
}
