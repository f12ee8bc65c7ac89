"""Run settings (a pack's recommendation, a classroom's defaults, a run's config) as a
readable table for the admin, instead of raw JSON: the setting in words, what it does,
and its value."""

from django.utils.html import format_html, format_html_join

from packs_app.setting_words import SETTINGS

# name -> (the setting in words, what it does), from the one place they are written
SETTING_WORDS = {name: (words.title, words.means) for name, words in SETTINGS.items()}


def settings_table(config, *, locked=()):
    """An HTML table of `config` ({name: value}); `locked` names are marked as fixed."""
    if not config:
        return format_html('<p class="help">{}</p>', "None set: the usual values apply.")
    rows = []
    for name, value in config.items():
        label, meaning = SETTING_WORDS.get(name, (name, ""))
        fixed = " (fixed for students)" if name in locked else ""
        rows.append((label, name, meaning, value, fixed))
    body = format_html_join(
        "",
        "<tr><th scope='row'>{} <code>{}</code></th><td>{}</td><td>{}{}</td></tr>",
        rows,
    )
    return format_html(
        '<table class="settings-table"><thead><tr><th>Setting</th><th>What it does</th>'
        "<th>Value</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )
