"""The fixed words of the reports in English and Japanese, and dates and numbers as each language writes them.

Japanese follows Microsoft's Exchange terminology (サーバー, メールボックス, 証明書 …) as the rule texts do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

LANGUAGES = ("en", "ja")

LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Exchange POP3/IMAP4 audit",
        "title_baselines": "Exchange audit: POP3/IMAP4 and hardening baselines",
        "failing_rules": "Failing rules", "rule_counts": "Rules", "and_more": "… and {n} more (findings.csv / report.json list them all)",
        "evaluated_as_of": "Evaluated as of", "generated": "generated", "by": "by", "input_files": "input file(s)",
        "verdicts": "Verdicts", "intended": "Intended", "server": "server", "verdict": "verdict",
        "checks_behind": "checks behind this verdict", "not_checked": "Not checked (no data)",
        "degraded": "Damaged or incomplete inputs behind this verdict:",
        "no_verdict": "No verdict: no rule of this scan speaks for POP3 or IMAP4.",
        "at_a_glance": "Rules at a glance", "failing_by_severity": "failing rules by severity",
        "howto": "How to read this report",
        "howto_text": "Each verdict answers whether users can connect with that protocol (or, when it is meant to be "
        "off, whether they cannot). It is computed from the checks listed under it: required and advisory checks "
        "decide it, information checks are reported only. A rule fails when some object breaks it; it is not "
        "evaluated when the exports lack the data — the reason names the cmdlet that would supply it — and never "
        "counts as a pass. Every finding names the file and line it came from; the inputs and their SHA-256 are "
        "listed at the end.",
        "findings": "Findings by rule", "outcome": "Outcome", "severity": "Severity", "tag": "Tag", "text": "Text",
        "all": "all", "search_hint": "object, message…", "rows_shown": "finding row(s) shown",
        "filters_note": "Filters apply to the rows shown; a rule lists at most {n} findings — findings.csv and "
        "report.json hold them all.",
        "showing": "Showing {shown} of {total} findings; findings.csv lists all {total}.",
        "col_outcome": "outcome", "col_class": "class", "col_rule": "rule", "col_severity": "severity",
        "by_server": "By server",
        "col_server": "server", "col_object": "object", "col_observed": "observed",
        "col_expected": "expected", "col_source": "source", "col_fix": "fix", "copy_button": "Copy", "copied": "Copied",
        "not_evaluated": "Not evaluated, and why", "all_evaluated": "Every rule could be evaluated.",
        "not_reviewed": "Waiting for a person: items no export decides, and site values not set",
        "some_unjudged": "some objects could not be judged",
        "inventory": "Inventory", "fqdn": "FQDN", "product": "product", "version": "version", "roles": "roles",
        "client_access": "Client Access", "mailbox": "Mailbox", "records_read": "Records read",
        "services": "POP3/IMAP4 services", "not_exported": "not exported",
        "before_after": "Before and after", "baseline": "Compared with the scan evaluated as of",
        "classes": {"new": "new", "fixed": "fixed", "still_failing": "still failing", "unresolved": "unresolved",
                    "gone": "gone", "newly_waived": "newly waived", "waiver_expired": "waiver expired",
                    "newly_evaluated": "newly evaluated"},
        "waivers": "Waivers (accepted risks)", "waived_by": "waived by", "until": "until", "matched": "findings matched",
        "waiver_status": {"active": "active", "expired": "expired — no longer applies", "stale": "stale — matches nothing"},
        "coverage": "What was exported for which server", "missing": "missing",
        "not_in_bundle": "Not in the bundle at all:", "export_with": "export with",
        "inputs": "Inputs", "file": "file", "format": "format", "encoding": "encoding", "dataset": "dataset",
        "records": "records", "problems": "problems", "incomplete": "incomplete", "line": "line",
        "date_order": "date order",
        "input_problems": "Input problems", "run": "Run", "tool": "tool", "rules": "rules", "parameter": "parameter",
        "baselines": "Baselines", "decided_pass": "{passed} of {decided} items an export decides pass ({share})",
        "open_items": "Open items, most severe first", "no_open": "No open item.", "control": "control",
        "cat": "CAT",
        "site_plan": "site plan", "approved_by": "approved by", "from_site_plan": "from the site plan",
        "build_catalogue": "Exchange build catalogue",
        "build_catalogue_stale": "its month ended {days} days before the evaluation date (over 90): a newer update may be missing",
        "readiness": "readiness", "safety": "safety", "unchanged": "unchanged", "failing_rows": "failing rows",
        "console_open": "open {path} in a browser for the whole report",
        "console_problems": "input problems: {count} ({first}; see report.json)",
        "diff_more": "… and {n} more (diff.json lists them all)",
        "diff_when": "Before: evaluated as of {old}; after: {new}.", "full_stop": ".", "organisation": "organisation",
        "synthetic_sample": "A synthetic sample bundle (exaudit samples): no real organisation, server or person.",
        "safety_status": {"secure": "secure", "at_risk": "at risk", "unknown": "unknown"},
        "safety_checks_behind": "checks behind the safety answer",
        "status": {"ready": "ready", "partial": "partial", "not_ready": "not ready", "unknown": "unknown",
                   "disabled": "disabled", "exposed": "exposed"},
        "outcomes": {"pass": "pass", "fail": "fail", "not_evaluated": "not evaluated", "not_reviewed": "not reviewed",
                     "not_applicable": "not applicable", "error": "error", "waived": "waived"},
        "severities": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
        "intents": {"enabled": "enabled", "disabled": "disabled"},
        "roles_of_checks": {"required": "required", "advisory": "advisory", "information": "information"},
        "portfolio": {"title": "Exchange POP3/IMAP4 audit — portfolio", "bundles": "bundle(s)", "bundle": "bundle",
                      "scanned": "scanned", "failed": "failed", "status": "scan", "failing": "failing rules",
                      "findings": "failing findings", "not_evaluated": "not evaluated", "servers": "servers",
                      "problems": "input problems", "report": "report", "open": "open", "error": "error",
                      "ignored": "Not scanned (not a bundle)", "why": "why", "source": "source",
                      "because": {"hidden": "hidden (its name starts with a dot)",
                                  "not_a_bundle": "not a folder or zip: a bundle is a sub-folder or a zip"},
                      "howto": "Each row is one bundle (a sub-folder or zip), scanned on its own; its full reports are "
                      "in the folder named after it. A failed row could not be scanned at all — the error says why."},
    },
    "ja": {
        "title": "Exchange POP3/IMAP4 監査レポート",
        "title_baselines": "Exchange 監査レポート: POP3/IMAP4 とハードニング ベースライン",
        "failing_rules": "不合格のルール", "rule_counts": "ルール", "and_more": "… ほか {n} 件 (すべて findings.csv / report.json にあります)",
        "evaluated_as_of": "評価日", "generated": "作成", "by": "作成ツール", "input_files": "個の入力ファイル",
        "verdicts": "判定", "intended": "意図", "server": "サーバー", "verdict": "判定",
        "checks_behind": "件のチェックに基づく判定", "not_checked": "未確認 (データなし)",
        "degraded": "この判定が読んだ入力のうち、破損しているか不完全なもの:",
        "no_verdict": "判定なし: このスキャンには POP3 または IMAP4 を判定するルールがありません。",
        "at_a_glance": "ルールの概要", "failing_by_severity": "重要度別の不合格ルール",
        "howto": "このレポートの読み方",
        "howto_text": "各判定は、ユーザーがそのプロトコルで接続できるか (無効にする意図の場合は、接続できないか) を示します。"
        "判定は下に示すチェックから計算されます。必須と推奨のチェックが判定を決め、情報のチェックは報告のみです。"
        "ルールは、違反するオブジェクトがあると不合格になります。エクスポートにデータがない場合は未評価となり、"
        "理由にデータを提供するコマンドレットが示されます。未評価が合格と見なされることはありません。"
        "すべての検出結果には元のファイルと行が示され、入力ファイルと SHA-256 は最後に一覧します。",
        "findings": "ルール別の検出結果", "outcome": "結果", "severity": "重要度", "tag": "タグ", "text": "テキスト",
        "all": "すべて", "search_hint": "オブジェクト、メッセージ…", "rows_shown": "行の検出結果を表示中",
        "filters_note": "フィルターは表示中の行に適用されます。1 つのルールに表示する検出結果は最大 {n} 件です。"
        "すべての検出結果は findings.csv と report.json にあります。",
        "showing": "{total} 件中 {shown} 件を表示しています。findings.csv に {total} 件すべてがあります。",
        "col_outcome": "結果", "col_class": "区分", "col_rule": "ルール", "col_severity": "重大度",
        "by_server": "サーバー別",
        "col_server": "サーバー", "col_object": "オブジェクト", "col_observed": "実際の値",
        "col_expected": "期待値", "col_source": "出典", "col_fix": "対処", "copy_button": "コピー", "copied": "コピーしました",
        "not_evaluated": "未評価のルールとその理由", "all_evaluated": "すべてのルールを評価できました。",
        "not_reviewed": "担当者の確認待ち: エクスポートでは判定できない項目と、未設定のサイトの値",
        "some_unjudged": "一部のオブジェクトを判定できませんでした",
        "inventory": "インベントリ", "fqdn": "FQDN", "product": "製品", "version": "バージョン", "roles": "役割",
        "client_access": "クライアント アクセス", "mailbox": "メールボックス", "records_read": "読み取ったレコード",
        "services": "POP3/IMAP4 サービス", "not_exported": "エクスポートなし",
        "before_after": "変更前と変更後", "baseline": "比較対象のスキャンの評価日",
        "classes": {"new": "新規", "fixed": "修正済み", "still_failing": "未修正", "unresolved": "判定不能",
                    "gone": "対象なし", "newly_waived": "新たに免除", "waiver_expired": "免除期限切れ",
                    "newly_evaluated": "新たに評価"},
        "waivers": "免除 (受け入れたリスク)", "waived_by": "免除", "until": "期限", "matched": "件の検出結果に適用",
        "waiver_status": {"active": "有効", "expired": "期限切れ (適用されません)", "stale": "該当なし (どの検出結果にも一致しません)"},
        "coverage": "サーバーごとのエクスポート状況", "missing": "なし",
        "not_in_bundle": "バンドルにまったく含まれていないデータ:", "export_with": "エクスポート方法",
        "inputs": "入力ファイル", "file": "ファイル", "format": "形式", "encoding": "エンコード", "dataset": "データセット",
        "records": "レコード数", "problems": "問題", "incomplete": "不完全", "line": "行",
        "date_order": "日付の順序",
        "input_problems": "入力の問題", "run": "実行情報", "tool": "ツール", "rules": "ルール", "parameter": "パラメーター",
        "baselines": "ベースライン", "decided_pass": "エクスポートで判定できる {decided} 項目のうち {passed} 項目が合格 ({share})",
        "open_items": "未解決の項目 (重大なものから)", "no_open": "未解決の項目はありません。", "control": "項目",
        "cat": "CAT",
        "site_plan": "サイトの計画", "approved_by": "承認者", "from_site_plan": "サイトの計画による値",
        "build_catalogue": "Exchange ビルド カタログ",
        "build_catalogue_stale": "その月は評価日の {days} 日前に終わっています (90 日超)。新しい更新プログラムが含まれていない可能性があります",
        "readiness": "準備状況", "safety": "安全性", "unchanged": "変更なし", "failing_rows": "不合格の行",
        "console_open": "レポート全体はブラウザーで {path} を開いて確認してください",
        "console_problems": "入力の問題: {count} 件 ({first}。詳細は report.json)",
        "diff_more": "… ほか {n} 件 (すべて diff.json にあります)",
        "diff_when": "変更前: {old} 時点の評価。変更後: {new} 時点の評価。", "full_stop": "。", "organisation": "組織",
        "synthetic_sample": "合成のサンプル バンドルです (exaudit samples)。実在の組織、サーバー、人物は含まれません。",
        "safety_status": {"secure": "安全", "at_risk": "リスクあり", "unknown": "不明"},
        "safety_checks_behind": "件のチェックに基づく安全性の判定",
        "status": {"ready": "準備完了", "partial": "一部準備完了", "not_ready": "未準備", "unknown": "不明",
                   "disabled": "無効", "exposed": "接続可能"},
        "outcomes": {"pass": "合格", "fail": "不合格", "not_evaluated": "未評価", "not_reviewed": "要確認",
                     "not_applicable": "対象外", "error": "エラー", "waived": "免除"},
        "severities": {"critical": "緊急", "high": "高", "medium": "中", "low": "低", "info": "情報"},
        "intents": {"enabled": "有効", "disabled": "無効"},
        "roles_of_checks": {"required": "必須", "advisory": "推奨", "information": "情報"},
        "portfolio": {"title": "Exchange POP3/IMAP4 監査レポート — 一覧", "bundles": "個のバンドル", "bundle": "バンドル",
                      "scanned": "スキャン済み", "failed": "失敗", "status": "スキャン", "failing": "不合格のルール",
                      "findings": "不合格の検出結果", "not_evaluated": "未評価", "servers": "サーバー",
                      "problems": "入力の問題", "report": "レポート", "open": "開く", "error": "エラー",
                      "ignored": "スキャンしなかったもの (バンドルではない)", "why": "理由", "source": "入力元",
                      "because": {"hidden": "隠しファイル (名前がドットで始まる)",
                                  "not_a_bundle": "フォルダーでも zip でもない (バンドルはサブフォルダーか zip)"},
                      "howto": "各行は 1 つのバンドル (サブフォルダーまたは zip) で、個別にスキャンされています。"
                      "詳しいレポートはバンドル名のフォルダーにあります。失敗した行はスキャンできなかったもので、理由をエラー欄に示します。"},
    },
}  # fmt: skip


def labels(language: str) -> dict[str, Any]:
    if language not in LABELS:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return LABELS[language]


def report_title(report: dict[str, Any], language: str) -> str:
    """What the report is about: the POP3/IMAP4 question, and the baselines when the scan ran baseline packs."""
    words = labels(language)
    return str(words["title_baselines"] if report.get("frameworks") else words["title"])


def timestamp(text: str, language: str) -> str:
    """`2026-11-27T09:30:00Z` as the language writes a date and time (always UTC, as the report computes)."""
    moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    if language == "ja":
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M} UTC"
    return f"{moment.day} {moment:%B} {moment.year}, {moment:%H:%M} UTC"


def number(value: int) -> str:
    """Thousands separated; Japanese reports use the same comma grouping."""
    return f"{value:,}"
