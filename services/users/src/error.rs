//! The users service's errors, and the HTTP status each one becomes.

use shopkit::{ApiError, FieldErrors};

/// Everything that can go wrong in the users service.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// 422: some fields are invalid.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// 409: the email belongs to another account.
    #[error("email already registered")]
    EmailTaken,
    /// 404: no such account.
    #[error("user not found")]
    NotFound,
    /// 401: the email and password do not match an account (the same answer either way).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403: the current password given for a sensitive change is wrong.
    #[error("current password incorrect")]
    WrongCurrentPassword,
    /// 409: the account is the last admin; deleting it would leave the shop unmanaged.
    #[error("the last admin cannot be deleted")]
    LastAdmin,
    /// 429: too many failed logins; retry after this many seconds.
    #[error("too many failed logins")]
    Throttled(u64),
    /// 500: password hashing or token signing failed.
    #[error("internal: {0}")]
    Internal(String),
    /// 500/503: the database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Only a database error leaves a lent connection in doubt (`shopkit::lender`).
impl shopkit::lender::StatementError for UsersError {
    fn is_database_failure(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}

impl From<FieldErrors> for UsersError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<UsersError> for ApiError {
    fn from(err: UsersError) -> Self {
        match err {
            UsersError::Invalid(errors) => errors.into(),
            UsersError::EmailTaken => ApiError::conflict("an account with this email already exists"),
            UsersError::NotFound => ApiError::not_found("no such user"),
            UsersError::InvalidCredentials => ApiError::unauthorized("invalid email or password"),
            UsersError::LastAdmin => {
                ApiError::conflict("this is the last admin account; make another admin before deleting it")
            }
            UsersError::WrongCurrentPassword => ApiError::forbidden("the current password is incorrect"),
            UsersError::Throttled(secs) => {
                ApiError::too_many_requests("too many failed attempts; try again later", secs)
            }
            UsersError::Internal(message) => ApiError::internal(&UsersError::Internal(message)),
            UsersError::Database(err) => err.into(),
        }
    }
}

/// A store function's failure, as its database span and metric record it: only a database
/// error is one; the others are the answers the operation gives (not found, a conflict).
impl shopkit::dbop::OperationError for UsersError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(error) => Some(error),
            _ => None,
        }
    }
}
