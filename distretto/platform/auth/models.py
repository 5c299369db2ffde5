"""Users are global: one person can belong to several firms."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from distretto.platform.auth.tokens import fingerprint
from distretto.platform.db import BigId, db, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return bool(self.active)

    def get_id(self) -> str:
        """The session's user id, bound to the password: changing it signs out everywhere.

        Flask-Login stores this in the session and the remember cookie; the user
        loader refuses an id whose stamp no longer matches the stored hash.
        """
        return f"{self.id}:{self.session_stamp}"

    @property
    def session_stamp(self) -> str:
        return fingerprint(self.password_hash)[:16]

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"


Index("uq_users_email_lower", func.lower(User.email), unique=True)
