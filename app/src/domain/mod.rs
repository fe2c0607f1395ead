//! Pure domain types shared by the browser and the server: they compile without `ssr`.

pub mod billing;
pub mod call;
pub mod digits;
pub mod email;
pub mod jalali;
pub mod money;
pub mod password;
pub mod phone;
pub mod role;
pub mod tariff;

pub use call::{CallStatus, Party};
pub use email::{Email, EmailError};
pub use money::Rial;
pub use password::{NewPassword, PasswordError};
pub use phone::{PhoneError, PhoneNumber};
pub use role::Role;
