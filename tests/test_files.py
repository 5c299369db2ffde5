"""Files a firm keeps: stored in its own rows, one per purpose on request, size-capped."""

from __future__ import annotations

import pytest

from distretto.platform import files
from distretto.platform.context import tenant_context
from distretto.platform.db import db


def test_a_firm_keeps_its_files_and_another_firm_sees_none(app, make_tenant):
    first, second = make_tenant(), make_tenant()
    with tenant_context(first):
        files.save_file("logo", "logo.png", "image/png", b"\x89PNG first")
        files.save_file("logo", "logo2.png", "image/png", b"\x89PNG newer", replace=True)
        db.session.commit()
        logo = files.latest_file("logo")
        assert (logo.filename, logo.data, logo.size) == ("logo2.png", b"\x89PNG newer", 10)
        assert files.files_bytes() == 10
    with tenant_context(second):
        assert files.latest_file("logo") is None
        assert files.files_bytes() == 0


def test_a_file_over_the_limit_is_refused_before_anything_is_written(app, make_tenant):
    app.config["MAX_FILE_BYTES"] = 10
    tenant = make_tenant()
    with tenant_context(tenant):
        with pytest.raises(files.FileTooLarge):
            files.save_file("logo", "big.png", "image/png", b"x" * 11, replace=True)
        assert files.latest_file("logo") is None
