"""Japanese for the texts that reading a bundle produces: input problems, why a file was not read, why a column
cannot be trusted, how a file's date order was decided, what the collection script recorded.

Readers word these in English where they arise — report.json, tests and logs keep that canonical text — and a
Japanese report words them through this catalogue of message shapes. A shape is a regular expression over the whole
English text; its Japanese template takes the captured values as they are (paths, property names, values, the
operating system's or a library's own words). A capture named `m_…` is itself a message and is put into Japanese
in turn. tests/report/test_japanese.py reads every sample, real export and adversarial case and fails on a text no
shape matches, so a new English message cannot slip into Japanese reports unnoticed.
"""

from __future__ import annotations

import re
from functools import cache

_ORDERS = {"day-first": "日が先", "month-first": "月が先", "year-first": "年が先"}

# (English shape, Japanese template). First match wins: specific shapes before general ones.
_SHAPES: tuple[tuple[str, str], ...] = (
    # -- files and folders
    (r"the file is empty", "ファイルが空です"),
    (r"unrecognised", "認識できない形式"),
    (r"no such file or folder", "そのようなファイルまたはフォルダーはありません"),
    (r"holds no records", "レコードがありません"),
    (r"cannot be read: (?P<e>.+)", "読み取れません: {e}"),
    (r"cannot be examined: (?P<e>.+)", "調べられません: {e}"),
    (r"folder cannot be read: (?P<e>.+)", "フォルダーを読み取れません: {e}"),
    (
        r"not a regular file \(a FIFO, socket or device\): not read",
        "通常のファイルではありません (FIFO、ソケットまたはデバイス)。読み取りません",
    ),
    (
        r"ignored: a file Windows or macOS keeps in folders",
        "無視しました: Windows または macOS がフォルダーに置くファイルです",
    ),
    (r"ignored: documentation or an image, not an export", "無視しました: エクスポートではなく、文書または画像です"),
    (r"symlink that loops: not read", "ループしているシンボリック リンクです。読み取りません"),
    (r"symlink whose target does not exist: not read", "リンク先が存在しないシンボリック リンクです。読み取りません"),
    (r"symlink to a place outside the bundle: refused", "バンドルの外を指すシンボリック リンクです。拒否しました"),
    (
        r"symlink to something that is not a regular file: not read",
        "通常のファイルではないものを指すシンボリック リンクです。読み取りません",
    ),
    (
        r"symlink to (?P<t>.+) inside the bundle: read there, not twice",
        "バンドル内の {t} を指すシンボリック リンクです。二重には読まず、リンク先で読み取ります",
    ),
    (
        r"SHA-256 differs from the manifest: changed since export",
        "SHA-256 がマニフェストと一致しません。エクスポート後に変更されています",
    ),
    (r"listed in the manifest but not in the bundle", "マニフェストに記載されていますが、バンドルにありません"),
    (
        r"not read: for rule packs this version does not have",
        "読み取りません: このバージョンにないルール パック用のファイルです",
    ),
    (
        r"(?P<f>.+?): not read \((?P<m_r>.+)\); it would supply (?P<d>.+)",
        "{f}: 読み取れていません ({m_r})。{d} のデータを含むはずのファイルです",
    ),
    (r"(?P<f>.+?) \(not read: (?P<m_r>.+)\)", "{f} (読み取れていません: {m_r})"),
    (
        r"(?P<f>.+?): (?P<d>\w+) incomplete \(damaged or cut off\)",
        "{f}: {d} が不完全です (破損しているか途中で切れています)",
    ),
    # -- zip archives
    (
        r"not a readable zip file: a member name marked UTF-8 is not",
        "読み取れる zip ファイルではありません: UTF-8 と示されたメンバー名が UTF-8 ではありません",
    ),
    (r"not a readable zip file: (?P<e>.+)", "読み取れる zip ファイルではありません: {e}"),
    (
        r"refused: (?P<n>[\d,]+) members; a bundle of exports holds far fewer \(limit (?P<l>[\d,]+)\)",
        "拒否しました: メンバーが {n} 個あります。エクスポートのバンドルはずっと少ないはずです (上限 {l})",
    ),
    (
        r"refused: would expand to (?P<a>[\d,]+) bytes from (?P<b>[\d,]+) \(a zip bomb\)",
        "拒否しました: {b} バイトから {a} バイトに展開されます (zip 爆弾)",
    ),
    (r"refused: compression ratio of a zip bomb", "拒否しました: zip 爆弾の圧縮率です"),
    (
        r"refused: the member's path leaves the archive or names nothing",
        "拒否しました: メンバーのパスがアーカイブの外を指すか、何も指していません",
    ),
    (
        r"refused: the archive holds (?P<n>\d+) members named (?P<name>.+); which one is meant cannot be told, so none "
        r"is read",
        "拒否しました: アーカイブに {name} という名前のメンバーが {n} 個あり、どれを指すか判断できないため、どれも読み取りません",
    ),
    (r"refused: a file beside a folder of the same name", "拒否しました: 同じ名前のフォルダーと並ぶファイルです"),
    (r"refused: a symlink stored in the archive", "拒否しました: アーカイブに格納されたシンボリック リンクです"),
    (r"refused", "拒否しました"),
    (r"not read: the member is encrypted", "読み取りません: メンバーが暗号化されています"),
    (r"member could not be extracted: (?P<e>.+)", "メンバーを展開できませんでした: {e}"),
    # -- formats, encodings, records
    (
        r"format not recognised: expected Export-Clixml, Export-Csv, Format-List/Table text or JSON",
        "形式を認識できません: Export-Clixml、Export-Csv、Format-List/Format-Table のテキスト、または JSON が必要です",
    ),
    (
        r"not valid UTF-8 text \(give the right code page with --encoding\)",
        "有効な UTF-8 テキストではありません (--encoding で正しいコード ページを指定してください)",
    ),
    (r"cannot decode the text: (?P<e>.+)", "テキストをデコードできません: {e}"),
    (r"not valid (?P<enc>.+?): (?P<e>.+)", "有効な {enc} ではありません: {e}"),
    (
        r"(?P<n>[\d,]+) record\(s\) of a type no dataset uses: (?P<t>.+)",
        "どのデータセットも使わない型のレコードが {n} 件あります: {t}",
    ),
    (r"prompt line skipped: (?P<l>.+)", "プロンプト行を読み飛ばしました: {l}"),
    (r"not part of a list or table, ignored: (?P<t>.+)", "リストや表の一部ではないため無視しました: {t}"),
    (r"the file ends inside a record: (?P<m_r>.+)", "ファイルがレコードの途中で終わっています: {m_r}"),
    (r"'(?P<p>[^']+)' has no value", "'{p}' に値がありません"),
    (r"the file ends before this value", "この値の前でファイルが終わっています"),
    (r"damaged or truncated XML: (?P<e>.+)", "XML が破損しているか途中で切れています: {e}"),
    (r"damaged JSON: nested too deeply", "JSON が破損しています: 入れ子が深すぎます"),
    (r"damaged JSON: (?P<e>.+)", "JSON が破損しています: {e}"),
    (
        r"root element is <(?P<t>[^>]+)>; expected <Objs> \(is this an Export-Clixml file\?\)",
        "ルート要素が <{t}> です。<Objs> が必要です (Export-Clixml のファイルですか?)",
    ),
    (
        r"no header line: expected the property names of Export-Csv",
        "見出し行がありません: Export-Csv のプロパティ名が必要です",
    ),
    (r"not a well-formed CSV row: (?P<e>.+)", "CSV の行として正しくありません: {e}"),
    (r"expected 'Name : value' or a continuation line: (?P<t>.+)", "'名前 : 値' の行か継続行が必要です: {t}"),
    (r"certificate could not be decoded: (?P<e>.+)", "証明書をデコードできませんでした: {e}"),
    (
        r"cut off by PowerShell's display width or \$FormatEnumerationLimit; export with Export-Clixml for all of it",
        "PowerShell の表示幅または $FormatEnumerationLimit で切り詰められています。すべての値は Export-Clixml でエクスポートしてください",
    ),
    (
        r"(?P<what>cell|collection) cut off by PowerShell's display width or \$FormatEnumerationLimit; export with "
        r"Export-Clixml for all of it",
        "{what}: PowerShell の表示幅または $FormatEnumerationLimit で切り詰められています。すべての値は Export-Clixml でエクスポートしてください",
    ),
    (
        r"holds (?P<v>'.*'): ConvertTo-Json's -Depth cut the value off here",
        "{v} が入っています: ConvertTo-Json の -Depth でここから先の値が切り捨てられています",
    ),
    (
        r"holds (?P<v>'.*'), the type name of a collection, not its items \(first at line (?P<l>\d+)\); export it with "
        r"Export-Clixml, or join the items with -join",
        "{v} が入っています。これはコレクションの型名で、要素ではありません (最初は {l} 行目)。Export-Clixml でエクスポートするか、"
        "-join で要素を連結してください",
    ),
    (r"a list of (?P<n>\d+) values where one value was expected", "値が 1 つ必要な箇所に {n} 個の値のリストがあります"),
    (r"duplicate of (?P<f>.+); merged", "{f} と重複しています。統合しました"),
    (
        r"(?P<d>\w+) (?P<id>.+) also in (?P<f>.+) with different (?P<c>.+); kept the (?P<k>[\w+-]+) value\(s\)",
        "{d} {id} は {f} にもあり、{c} が異なります。{k} の値を採りました",
    ),
    (
        r"(?P<n>[\d,]+) (?P<d>\w+) row\(s\) could not be attributed to a server: name the server in the folder or file "
        r"name, or export with a manifest",
        "{d} の {n} 行をサーバーに割り当てられませんでした: フォルダー名かファイル名にサーバー名を入れるか、マニフェスト付きでエクスポートしてください",
    ),
    (
        r"(?P<d>\w+) rows belong to server (?P<s>\S+), which the Get-ExchangeServer export does not list",
        "{d} の行はサーバー {s} のものですが、Get-ExchangeServer のエクスポートにそのサーバーがありません",
    ),
    (r"(?P<c>[\w.]+): (?P<m_r>.+)", "{c}: {m_r}"),
    # -- values
    (
        r"expected a date, got (?P<t>.+?) \(an unknown AM/PM designator or a month name\)",
        "日付が必要ですが、{t} でした (不明な AM/PM 指定子または月名)",
    ),
    (r"expected a date, got (?P<t>.+)", "日付が必要ですが、{t} でした"),
    (r"expected a number, got (?P<t>.+)", "数値が必要ですが、{t} でした"),
    (r"expected a decimal number, got (?P<t>.+)", "10 進数が必要ですが、{t} でした"),
    (r"expected (?:True or False|true or false), got (?P<t>.+)", "True または False が必要ですが、{t} でした"),
    (
        r"expected an? (?P<kind>DateTime|TimeSpan|size|Exchange version|IP binding) like (?P<ex>.+), got (?P<t>.+)",
        "{ex} のような {kind} が必要ですが、{t} でした",
    ),
    (r"expected host:port\[:SSL\|TLS\], got (?P<t>.+)", "host:port[:SSL|TLS] が必要ですが、{t} でした"),
    # -- dates
    (r"(?P<o>day-first|month-first|year-first): (?P<m_b>.+)", "{o}: {m_b}"),
    (r"(?P<v>'.+') reads only that way", "{v} はその順でしか読めません"),
    (
        r"(?P<v>'.+') then matches the same object's date in another export",
        "その順なら {v} が別のエクスポートの同じオブジェクトの日付と一致します",
    ),
    (r"given by (?P<s>--culture \S+|--date-format .+)", "{s} による指定"),
    (r"given by the manifest \(culture (?P<c>\S+)\)", "マニフェストによる指定 (カルチャ {c})"),
    (
        r"no date in the file depends on the day/month order",
        "このファイルには日と月の順序で読み方が変わる日付がありません",
    ),
    (
        r"the file's dates disagree: (?P<a>'.+') is day-first, (?P<b>'.+') is month-first",
        "ファイル内の日付が食い違っています: {a} は日が先、{b} は月が先です",
    ),
    (
        r"ambiguous date order: (?P<v>'.+') reads as (?P<d>\S+) day-first and (?P<m>\S+) month-first, and nothing in "
        r"the bundle decides it — give --culture NAME or --date-format PATTERN, or export with Export-Clixml",
        "日付の順序があいまいです: {v} は日が先なら {d}、月が先なら {m} と読め、バンドル内に決め手がありません。"
        "--culture NAME か --date-format PATTERN を指定するか、Export-Clixml でエクスポートしてください",
    ),
    (r"(?P<m_r>.+) \(first at (?P<at>.+)\)", "{m_r} (最初の箇所: {at})"),
    (r"(?P<m_r>.+) \(records before it kept\)", "{m_r} (それより前のレコードは読み取りました)"),
    (
        r"(?P<c>\S+) is the exporting machine's local time \(a text export carries no time zone; first at (?P<at>.+)\): "
        r"compared by calendar day",
        "{c} はエクスポートしたマシンのローカル時刻です (テキストのエクスポートにはタイム ゾーンがありません。最初の箇所: {at})。"
        "日付単位で比較しました",
    ),
    # -- the collection script's record
    (r"(?P<w>.+) failed when it was collected: (?P<e>.+)", "{w} は収集時に失敗しました: {e}"),
    (r"(?P<w>.+) was not collected: (?P<e>.+)", "{w} は収集されていません: {e}"),
    (
        r"the collection script recorded (?P<n>\d+) error\(s\) for (?P<w>.+) \(first: (?P<e>.+)\); the (?P<k>\d+) "
        r"object\(s\) that came back are read",
        "収集スクリプトは {w} で {n} 件のエラーを記録しました (最初: {e})。返された {k} 個のオブジェクトは読み取ります",
    ),
    (r"no message recorded", "メッセージは記録されていません"),
    (r"export with (?P<c>.+)", "{c} でエクスポートしてください"),
    # -- what the engine notes beside a result
    (
        r"no (?P<d>\w+) data, so nothing was left out of the scope \(export it with (?P<c>.+)\)",
        "{d} のデータがないため、対象から何も除外していません ({c} でエクスポートしてください)",
    ),
    (r"(?P<m_a>.+?); (?P<m_b>.+)", "{m_a}; {m_b}"),
)


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(shape, re.DOTALL), template) for shape, template in _SHAPES)


def japanese(text: str) -> str | None:
    """The Japanese for `text`, or None when no shape of the catalogue matches it (or a part of it)."""
    for pattern, template in _compiled():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values: dict[str, str] = {}
        for name, value in match.groupdict().items():
            worded = japanese(value) if name.startswith("m_") else _ORDERS.get(value, value) if name == "o" else value
            if worded is None:
                break
            values[name] = worded
        else:
            return template.format(**values)
    return None


def in_japanese(text: str) -> str:
    """`text` in Japanese where the catalogue knows its shape, else as it is."""
    return japanese(text) or text
