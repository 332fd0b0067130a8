"""`flask keys scan` reads files whatever their encoding: a key leaked in a .env that
PowerShell saved (UTF-16 with a byte-order mark), in UTF-16 without one, or in a latin-1
file with one accented comment is found and reported like any other."""
from conftest import key_id

from app.keys import lifecycle


def test_scan_finds_keys_in_files_that_are_not_utf8(app, tmp_path):
    with app.app_context():
        _, live = lifecycle.create_key("leaked")
    line = f"STOREPRICE_API_KEY={live}\r\n"
    (tmp_path / "powershell.env").write_bytes("\ufeff# réglages\r\n".encode("utf-16-le")
                                              + line.encode("utf-16-le"))
    (tmp_path / "no-bom.env").write_bytes(line.encode("utf-16-be"))
    (tmp_path / "latin1.cfg").write_bytes("# clé de production\n".encode("latin-1")
                                          + line.encode("latin-1"))
    (tmp_path / "utf8.env").write_text(f"# clé\n{line}", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["keys", "scan", str(tmp_path)])
    assert result.exit_code == 1, result.output  # live keys found
    assert sorted(result.stdout.splitlines()) == sorted([
        f"{tmp_path}/latin1.cfg:2: key {key_id(live)} (live)",
        f"{tmp_path}/no-bom.env:1: key {key_id(live)} (live)",
        f"{tmp_path}/powershell.env:2: key {key_id(live)} (live)",
        f"{tmp_path}/utf8.env:2: key {key_id(live)} (live)",
    ])
