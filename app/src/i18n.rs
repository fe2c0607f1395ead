//! Persian first, English too. Every text exists in both languages: the macro makes a missing
//! translation a compile error.

use serde::{Deserialize, Serialize};

use crate::domain::digits::to_persian_digits;
use crate::domain::{EmailError, PasswordError, PhoneError, Role};
use crate::error::{AppError, Problem};

/// A language of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Persian, right to left, the default.
    #[default]
    Fa,
    /// English.
    En,
}

impl Lang {
    /// `fa` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fa => "fa",
            Lang::En => "en",
        }
    }

    /// Parses `fa` or `en`.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "fa" => Some(Lang::Fa),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `rtl` or `ltr`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Fa => "rtl",
            Lang::En => "ltr",
        }
    }

    /// The other language (for the switch).
    pub fn other(self) -> Self {
        match self {
            Lang::Fa => Lang::En,
            Lang::En => Lang::Fa,
        }
    }

    /// The texts of this language.
    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Fa => &FA,
            Lang::En => &EN,
        }
    }

    /// Digits as this language writes them.
    pub fn num(self, s: impl AsRef<str>) -> String {
        match self {
            Lang::Fa => to_persian_digits(s.as_ref()).replace(',', "٬"),
            Lang::En => s.as_ref().to_owned(),
        }
    }

    /// A number with thousands separators in this language's digits.
    pub fn int(self, n: i64) -> String {
        self.num(crate::domain::digits::group_thousands(n))
    }

    /// A short day label: `۹/۱۴` (Jalali month/day) in Persian, `12/05` in English.
    pub fn day_label(self, unix_ms: i64) -> String {
        use crate::domain::jalali::{tehran_gregorian, tehran_jalali};
        let d = match self {
            Lang::Fa => tehran_jalali(unix_ms),
            Lang::En => tehran_gregorian(unix_ms),
        };
        self.num(format!("{}/{:02}", d.month, d.day))
    }

    /// The time of day with seconds, in Tehran time and this language's digits.
    pub fn clock(self, unix_ms: i64) -> String {
        let d = crate::domain::jalali::tehran_gregorian(unix_ms);
        let seconds = unix_ms.div_euclid(1000).rem_euclid(60);
        self.num(format!("{:02}:{:02}:{:02}", d.hour, d.minute, seconds))
    }

    /// A stored number as people here write it: `+989121234567` → `09121234567` (masked and
    /// foreign numbers as they are), in this language's digits.
    pub fn phone(self, number: &str) -> String {
        let local = match number.strip_prefix("+98") {
            Some(national) => format!("0{national}"),
            None => number.to_owned(),
        };
        self.num(local)
    }

    /// Seconds as `m:ss`.
    pub fn duration(self, seconds: i64) -> String {
        self.num(format!("{}:{:02}", seconds / 60, seconds % 60))
    }

    /// A date and time in this language's calendar: Jalali for `fa`, Gregorian for `en`
    /// (both in Tehran time).
    pub fn datetime(self, unix_ms: i64) -> String {
        use crate::domain::jalali::{tehran_gregorian, tehran_jalali};
        let d = match self {
            Lang::Fa => tehran_jalali(unix_ms),
            Lang::En => tehran_gregorian(unix_ms),
        };
        self.num(format!(
            "{:04}/{:02}/{:02} {:02}:{:02}",
            d.year, d.month, d.day, d.hour, d.minute
        ))
    }
}

macro_rules! texts {
    ($($key:ident: $fa:expr, $en:expr;)*) => {
        /// Every fixed text of the panel.
        #[allow(missing_docs)]
        pub struct Texts { $(pub $key: &'static str,)* }
        const FA: Texts = Texts { $($key: $fa,)* };
        const EN: Texts = Texts { $($key: $en,)* };
    };
}

texts! {
    brand: "پل", "Pol";
    tagline: "تماس امن برای تاکسی‌های اینترنتی", "Safe calls for ride-hailing operators";
    hero_lead: "مسافر و راننده با هم حرف می‌زنند، بی‌آنکه شماره‌ی هم را ببینند. شما پیام خوشامد، زمان مکالمه و ضبط تماس را در اختیار دارید.",
        "Passengers and drivers talk without ever seeing each other's number. You control the welcome message, the time limit and the recording.";
    language_name: "فارسی", "English";
    switch_language: "English", "فارسی";
    nav_login: "ورود", "Log in";
    nav_signup: "ثبت‌نام", "Sign up";
    nav_dashboard: "پیشخوان", "Dashboard";
    nav_settings: "تنظیمات", "Settings";
    nav_profile: "نمایه", "Profile";
    nav_security: "امنیت", "Security";
    nav_team: "اعضای تیم", "Team";
    nav_companies: "شرکت‌ها", "Companies";
    nav_logout: "خروج", "Log out";
    how_title: "چطور کار می‌کند", "How it works";
    how_1: "مسافر در اپلیکیشن شما «تماس با راننده» را می‌زند.", "A passenger taps \"call driver\" in your app.";
    how_2: "سامانه‌ی شما یک درخواست به API پل می‌فرستد.", "Your dispatch system sends one request to Pol's API.";
    how_3: "پل به نفر اول زنگ می‌زند، پیام خوشامد شما را پخش می‌کند و نفر دوم را وصل می‌کند.", "Pol rings the first party, plays your welcome message and connects the second.";
    how_4: "مکالمه ضبط می‌شود، در زمان تعیین‌شده قطع می‌شود و در گزارش‌ها با فایل صوتی می‌آید.", "The call is recorded, cut at your time limit and reported with a playable recording.";
    prices_title: "تعرفه‌ها", "Prices";
    prices_lead: "شارژ پیش‌پرداخت؛ فقط زمان مکالمه‌ی برقرارشده حساب می‌شود.", "Prepaid talk time; only connected talk time is billed.";
    price_package: "بسته", "Package";
    price_minutes: "دقیقه مکالمه", "Talk time";
    price_rate: "هر دقیقه", "Per minute";
    minutes: "دقیقه", "min";
    cta_start: "همین حالا شروع کنید", "Start now";
    signup_title: "ساخت حساب شرکت", "Create your company account";
    field_company: "نام شرکت", "Company name";
    field_name: "نام و نام خانوادگی", "Your name";
    field_email: "ایمیل", "E-mail";
    field_mobile: "شماره‌ی همراه", "Mobile number";
    field_password: "رمز عبور", "Password";
    field_new_password: "رمز عبور تازه", "New password";
    field_current_password: "رمز عبور فعلی", "Current password";
    field_role: "نقش", "Role";
    field_language: "زبان", "Language";
    password_hint: "دست‌کم ۱۰ نویسه؛ رمزهای رایج پذیرفته نمی‌شوند.", "At least 10 characters; common passwords are refused.";
    mobile_hint: "مثلاً \u{2066}۰۹۱۲ ۳۴۵ ۶۷۸۹\u{2069}", "For example 0912 345 6789";
    show_password: "نمایش", "Show";
    hide_password: "پنهان", "Hide";
    signup_submit: "ساخت حساب", "Create account";
    have_account: "حساب دارید؟", "Have an account?";
    no_account: "حساب ندارید؟", "No account yet?";
    login_title: "ورود به پنل", "Log in to the panel";
    login_submit: "ورود", "Log in";
    forgot_link: "رمز عبور را فراموش کرده‌اید؟", "Forgot your password?";
    forgot_title: "بازیابی رمز عبور", "Reset your password";
    forgot_lead: "ایمیل حساب را بنویسید تا پیوند بازیابی برایتان بفرستیم.", "Enter your account's e-mail and we will send you a reset link.";
    forgot_submit: "فرستادن پیوند", "Send the link";
    forgot_sent: "اگر حسابی با این ایمیل باشد، پیوند بازیابی تا چند دقیقه‌ی دیگر می‌رسد. پیوند یک ساعت اعتبار دارد.", "If an account uses this e-mail, a reset link is on its way. It is valid for one hour.";
    reset_title: "رمز عبور تازه", "Choose a new password";
    reset_submit: "ذخیره‌ی رمز عبور", "Save the password";
    reset_done: "رمز عبور عوض شد و همه‌ی نشست‌های دیگر بسته شدند. دوباره وارد شوید.", "Your password was changed and every other session was signed out. Please log in.";
    verify_title: "تأیید ایمیل", "E-mail confirmation";
    verify_done: "ایمیل شما تأیید شد.", "Your e-mail address is confirmed.";
    verify_banner: "ایمیل شما هنوز تأیید نشده است. پیوندی را که فرستادیم باز کنید.", "Your e-mail address is not confirmed yet. Open the link we sent you.";
    verify_resend: "فرستادن دوباره‌ی پیوند", "Send the link again";
    verify_resent: "پیوند تازه فرستاده شد.", "A new link is on its way.";
    to_dashboard: "رفتن به پیشخوان", "Go to the dashboard";
    dashboard_title: "پیشخوان", "Dashboard";
    balance: "اعتبار", "Balance";
    balance_value: "ارزش اعتبار", "Value";
    your_role: "نقش شما", "Your role";
    company: "شرکت", "Company";
    role_owner: "مالک", "Owner";
    role_admin: "مدیر", "Admin";
    role_viewer: "بیننده", "Viewer";
    profile_title: "نمایه", "Profile";
    save: "ذخیره", "Save";
    saved: "ذخیره شد.", "Saved.";
    security_title: "تغییر رمز عبور", "Change password";
    security_lead: "پس از تغییر رمز، نشست‌های دیگر شما بسته می‌شوند.", "Changing your password signs out your other sessions.";
    team_title: "اعضای تیم", "Team";
    team_invite: "دعوت عضو تازه", "Invite a member";
    team_invite_submit: "فرستادن دعوت‌نامه", "Send invitation";
    team_invited: "دعوت‌نامه فرستاده شد.", "Invitation sent.";
    team_pending: "دعوت‌های در انتظار", "Pending invitations";
    team_revoke: "لغو دعوت", "Withdraw";
    team_manage: "مدیریت", "Manage";
    team_only_owner: "فقط مالک می‌تواند اعضا را مدیریت کند.", "Only an owner can manage members.";
    member_title: "عضو تیم", "Team member";
    member_change_role: "تغییر نقش", "Change role";
    member_remove: "حذف از تیم", "Remove from team";
    member_removed: "عضو حذف شد.", "Member removed.";
    joined_at: "تاریخ پیوستن", "Joined";
    unverified: "تأییدنشده", "unconfirmed";
    companies_title: "شرکت‌های شما", "Your companies";
    companies_current: "فعلی", "current";
    companies_switch: "رفتن به این شرکت", "Switch";
    companies_new: "ساخت شرکت تازه", "Add a company";
    companies_create: "ساخت", "Create";
    invite_title: "دعوت به تیم", "Team invitation";
    invite_lead: "شما به این شرکت دعوت شده‌اید:", "You are invited to join:";
    invite_accept: "پذیرفتن دعوت", "Accept the invitation";
    invite_login_first: "این دعوت برای حسابی است که از قبل وجود دارد. با همان ایمیل وارد شوید و دوباره این پیوند را باز کنید.", "This invitation is for an existing account. Log in with that e-mail and open this link again.";
    invite_other_account: "این دعوت برای ایمیل دیگری است. از این حساب خارج شوید و دوباره تلاش کنید.", "This invitation is for another e-mail address. Log out and open the link again.";
    invite_create_account: "برای پیوستن، حساب خود را بسازید:", "Create your account to join:";
    low_balance: "اعتبار شما کمتر از ۳۰ دقیقه است؛ برای قطع‌نشدن تماس‌ها اعتبار بخرید.", "Less than 30 minutes of talk time left; top up so calls are not refused.";
    low_balance_setting: "هشدار کم‌بودن اعتبار زیر (دقیقه)", "Warn when talk time falls below (minutes)";
    nav_top_up: "خرید اعتبار", "Top up";
    nav_payments: "پرداخت‌ها", "Payments";
    top_up_title: "خرید زمان مکالمه", "Buy talk time";
    top_up_lead: "یک بسته برگزینید یا مبلغ دلخواه بنویسید. خرید ۵۰٬۰۰۰ تومان و بیشتر، دقیقه‌ای ۲۰۰ تومان.", "Choose a package or type an amount. Top-ups of 50,000 Toman and more cost 200 Toman a minute.";
    top_up_custom: "مبلغ دلخواه (تومان)", "Custom amount (Toman)";
    top_up_you_get: "دریافت می‌کنید:", "You get:";
    top_up_at: "با نرخ", "at";
    top_up_per_minute: "هر دقیقه", "per minute";
    top_up_pay: "پرداخت", "Pay";
    test_mode: "حالت آزمایشی: پرداخت واقعی انجام نمی‌شود.", "Test mode: no real money moves.";
    payments_title: "پرداخت‌ها", "Payments";
    payments_empty: "هنوز پرداختی ندارید.", "No payments yet.";
    payment_title: "پرداخت", "Payment";
    payment_amount: "مبلغ", "Amount";
    payment_minutes: "زمان مکالمه", "Talk time";
    payment_status: "وضعیت", "Status";
    payment_ref: "شماره‌ی پیگیری", "Reference";
    payment_date: "تاریخ", "Date";
    payment_card: "کارت", "Card";
    payment_paid: "پرداخت شد", "Paid";
    payment_pending: "در انتظار تأیید", "Awaiting confirmation";
    payment_failed: "ناموفق", "Failed";
    payment_canceled: "لغو شد", "Canceled";
    payment_success: "پرداخت موفق بود و اعتبار شما افزایش یافت.", "Payment received; your balance has been topped up.";
    payment_pending_lead: "پرداخت هنوز تأیید نشده است. اگر پولی کسر شده باشد، تا چند دقیقه‌ی دیگر به اعتبارتان افزوده می‌شود.", "The payment is not confirmed yet. If money was taken, it will be credited within minutes.";
    payment_failed_lead: "پرداخت انجام نشد و مبلغی کسر نشد.", "The payment did not go through; nothing was charged.";
    payment_retry: "تلاش دوباره", "Try again";
    payment_print: "چاپ رسید", "Print receipt";
    test_gateway_title: "درگاه آزمایشی", "Test gateway";
    test_gateway_lead: "این درگاه آزمایشی پل است. پرداخت را تأیید یا لغو کنید.", "This is Pol's test gateway. Approve or cancel the payment.";
    test_gateway_pay: "پرداخت موفق", "Pay";
    test_gateway_cancel: "لغو پرداخت", "Cancel";
    not_found_title: "پیدا نشد", "Not found";
    not_found_lead: "صفحه‌ای که می‌خواهید وجود ندارد یا به شما تعلق ندارد.", "The page does not exist or does not belong to you.";
    back_home: "بازگشت به صفحه‌ی اصلی", "Back to the home page";
    loading: "در حال بارگذاری…", "Loading…";
    footer: "پل — تماس امن", "Pol — safe calls";
    err_required: "این بخش را پر کنید.", "This field is required.";
    err_too_long: "بیش از اندازه طولانی است.", "This is too long.";
    err_phone_empty: "شماره‌ی همراه را بنویسید.", "Enter a mobile number.";
    err_phone_chars: "شماره فقط باید رقم داشته باشد.", "A phone number may only contain digits.";
    err_phone_mobile: "این شماره‌ی همراه ایرانی نیست (مثلاً ۰۹۱۲۳۴۵۶۷۸۹).", "This is not an Iranian mobile number (e.g. 09123456789).";
    err_email_empty: "ایمیل را بنویسید.", "Enter an e-mail address.";
    err_email_invalid: "این ایمیل درست نیست.", "This is not a valid e-mail address.";
    err_email_long: "ایمیل بیش از اندازه طولانی است.", "This e-mail address is too long.";
    err_password_short: "رمز عبور باید دست‌کم ۱۰ نویسه باشد.", "The password must have at least 10 characters.";
    err_password_long: "رمز عبور بیش از اندازه طولانی است.", "The password is too long.";
    err_password_common: "این رمز عبور بسیار رایج است؛ رمز دیگری برگزینید.", "This password is too common; choose another.";
    err_email_taken: "حسابی با این ایمیل وجود دارد. وارد شوید یا رمز را بازیابی کنید.", "An account with this e-mail exists. Log in or reset the password.";
    err_wrong_password: "رمز عبور فعلی درست نیست.", "The current password is wrong.";
    err_choice: "یکی از گزینه‌ها را برگزینید.", "Choose one of the options.";
    err_already_member: "این شخص از قبل عضو تیم است.", "This person is already a member.";
    err_last_owner: "شرکت باید دست‌کم یک مالک داشته باشد.", "The company must keep at least one owner.";
    err_exceeds_balance: "بیش از اعتبار در دسترس این شرکت است.", "More than this company has available.";
    nav_admin: "مدیریت سامانه", "Platform admin";
    admin_title: "شرکت‌ها و اعتبار", "Companies and credit";
    admin_tariffs: "تعرفه‌ها", "Tariffs";
    admin_adjust: "اصلاح دستی اعتبار", "Manual adjustment";
    admin_minutes: "دقیقه (منفی برای کسر)", "Minutes (negative to debit)";
    admin_reason: "دلیل", "Reason";
    admin_apply: "ثبت", "Apply";
    admin_adjusted: "اعتبار اصلاح شد و در دفتر ثبت شد.", "Adjusted and recorded in the ledger.";
    admin_tier_min: "از مبلغ (تومان)", "From amount (Toman)";
    admin_tier_rate: "نرخ هر دقیقه (تومان)", "Rate per minute (Toman)";
    admin_tier_increment: "واحد صورت‌حساب (ثانیه)", "Billing increment (seconds)";
    admin_tier_add: "افزودن تعرفه از همین لحظه", "Add a tier, effective now";
    admin_tier_note: "پرداخت‌های پیشین با نرخ خودشان می‌مانند.", "Earlier payments keep the rate they were sold at.";
    admin_held: "در حال استفاده", "In calls";
    nav_calls: "تماس‌ها", "Calls";
    nav_tokens: "کلیدهای API", "API tokens";
    nav_call_settings: "تنظیمات تماس", "Call settings";
    col_id: "شناسه", "ID";
    col_time: "زمان", "Time";
    col_status: "وضعیت", "Status";
    col_passenger: "مسافر", "Passenger";
    col_driver: "راننده", "Driver";
    col_parties: "طرفین", "Parties";
    col_first: "نفر اول", "Called first";
    col_talk: "مکالمه", "Talk";
    col_talk_seconds: "مدت مکالمه (ثانیه)", "Talk (seconds)";
    col_billed_seconds: "زمان محاسبه‌شده (ثانیه)", "Billed (seconds)";
    col_cost: "هزینه", "Cost";
    col_cost_toman: "هزینه (تومان)", "Cost (Toman)";
    col_reference: "شناسه‌ی مرجع", "Reference";
    col_cause: "علت پایان", "End cause";
    status_queued: "در صف", "Queued";
    status_ringing: "در حال زنگ", "Ringing";
    status_in_progress: "در حال مکالمه", "In progress";
    status_completed: "انجام شد", "Completed";
    status_busy: "مشغول", "Busy";
    status_no_answer: "بی‌پاسخ", "No answer";
    status_failed: "ناموفق", "Failed";
    status_canceled: "لغو شد", "Canceled";
    party_passenger: "مسافر", "Passenger";
    party_driver: "راننده", "Driver";
    today_calls: "تماس‌های امروز", "Calls today";
    answer_rate: "نرخ پاسخ امروز", "Answer rate today";
    minutes_today: "دقیقه‌های امروز", "Minutes today";
    spent_today: "هزینه‌ی امروز", "Spent today";
    days_left: "روزهای باقی‌مانده", "Days left";
    days_left_note: "با مصرف هفت روز گذشته", "at the last 7 days' pace";
    chart_title: "۳۰ روز گذشته", "Last 30 days";
    chart_calls: "تماس‌ها", "Calls";
    chart_minutes: "دقیقه‌های مکالمه", "Talk minutes";
    calls_title: "گزارش تماس‌ها", "Call reports";
    calls_empty: "هنوز تماسی ثبت نشده است.", "No calls yet.";
    calls_sandbox: "تماس‌ها در محیط آزمایشی (sandbox) برقرار می‌شوند: هیچ تلفن واقعی زنگ نمی‌خورد و صدای ضبط‌شده ساختگی است.", "Calls run in the sandbox: no real phone rings and the recorded voices are synthesized.";
    badge_sandbox: "آزمایشی", "Sandbox";
    test_call_title: "تماس آزمایشی", "Test call";
    test_call_lead: "دو شماره بدهید تا پل بین آن‌ها تماس برقرار کند. در محیط آزمایشی شماره‌هایی که به ۰۰۰۱ ختم می‌شوند مشغول‌اند، ۰۰۰۲ پاسخ نمی‌دهند، ۰۰۰۳ در دسترس نیستند و ۷ و سه رقم به همان تعداد ثانیه حرف می‌زنند (۷۰۶۱ یعنی ۶۱ ثانیه).", "Give two numbers and Pol connects them. In the sandbox, numbers ending 0001 are busy, 0002 never answer, 0003 are unreachable, and 7 plus three digits talk that many seconds (7061: 61 s).";
    test_call_submit: "برقراری تماس", "Place call";
    filter_all: "همه", "All";
    filter_from: "از تاریخ", "From";
    filter_to: "تا تاریخ", "To";
    filter_number: "شماره (رقم‌های آخر)", "Number (last digits)";
    filter_submit: "اعمال فیلتر", "Filter";
    export_csv: "دریافت CSV", "Export CSV";
    invalid_filters: "برخی فیلترها نامعتبر بود؛ همه‌ی تماس‌ها نمایش داده شد.", "Some filters were invalid; showing every call.";
    older_calls: "تماس‌های قدیمی‌تر", "Older calls";
    newest_calls: "جدیدترین تماس‌ها", "Newest calls";
    call_title: "جزئیات تماس", "Call details";
    call_placed: "زمان ثبت", "Placed";
    call_billed: "زمان محاسبه‌شده", "Billed";
    call_limit: "سقف مدت", "Time limit";
    call_recording: "ضبط مکالمه", "Recording";
    call_download: "دانلود فایل", "Download";
    call_no_recording: "این تماس ضبط نشده است.", "This call has no recording.";
    call_legs: "مسیرهای تماس", "Legs";
    call_timeline: "رویدادها", "Timeline";
    call_live: "این تماس در جریان است؛ صفحه خودبه‌خود تازه می‌شود.", "This call is in progress; the page refreshes itself.";
    leg_first: "نفر اول", "First";
    leg_second: "نفر دوم", "Second";
    col_dialled: "شماره‌گیری", "Dialled";
    col_ringing: "زنگ", "Ringing";
    col_answered: "پاسخ", "Answered";
    col_ended: "پایان", "Ended";
    seconds_short: "ثانیه", "s";
    back_to_calls: "بازگشت به گزارش", "Back to reports";
    call_settings_title: "تنظیمات تماس", "Call settings";
    field_first_party: "اول به چه کسی زنگ زده شود؟", "Who is called first?";
    field_max_duration: "سقف مدت مکالمه (ثانیه)", "Longest call (seconds)";
    hint_max_duration: "۱۰ تا ۷۲۰۰ ثانیه. درخواست‌های API نمی‌توانند بیش از این بخواهند.", "10 to 7200 seconds. API requests cannot ask for more.";
    field_ring_timeout: "مهلت زنگ خوردن (ثانیه)", "Ring timeout (seconds)";
    hint_ring_timeout: "۵ تا ۱۲۰ ثانیه", "5 to 120 seconds";
    field_caller_id: "شماره‌ی نمایشی", "Caller ID";
    hint_caller_id: "شماره‌ای که مسافر و راننده می‌بینند. پشتیبانی پل آن را از شماره‌های ترانک به شما می‌دهد.", "The number passenger and driver see. Pol's support assigns it from the trunk's numbers.";
    caller_id_default: "شماره‌ی پیش‌فرض سرویس", "The service's default number";
    admin_caller_id: "شماره‌ی نمایشی شرکت", "A company's caller ID";
    admin_caller_id_hint: "یکی از شماره‌های ترانک؛ خالی: شماره‌ی پیش‌فرض", "One of the trunk's numbers; empty: the default";
    admin_caller_id_saved: "شماره‌ی نمایشی ذخیره شد.", "Caller ID saved.";
    field_record: "مکالمه‌ها ضبط شوند", "Record calls";
    field_welcome_second: "پیام خوشامد برای نفر دوم هم پخش شود", "Play it to the second party too";
    field_welcome: "پیام خوشامد برای نفر اول پخش شود", "Play the welcome message to the first party";
    concurrency_note: "سقف تماس‌های هم‌زمان شما {n} است. برای افزایش آن با پشتیبانی تماس بگیرید.", "You may have {n} calls in progress at once. Contact support to raise it.";
    tokens_title: "کلیدهای API", "API tokens";
    tokens_lead: "سامانه‌ی دیسپچ شما با این کلیدها تماس برقرار می‌کند. هر کلید فقط یک بار نمایش داده می‌شود؛ آن را مثل رمز عبور نگه دارید.", "Your dispatch system places calls with these tokens. Each token is shown only once; keep it like a password.";
    token_name: "نام کلید", "Token name";
    token_create: "ساخت کلید", "Create token";
    token_fresh: "این کلید را همین حالا کپی کنید؛ دیگر نمایش داده نمی‌شود:", "Copy this token now; it will not be shown again:";
    token_copy: "کپی", "Copy";
    token_prefix: "آغاز کلید", "Starts with";
    token_created: "ساخته‌شده", "Created";
    token_last_used: "آخرین استفاده", "Last used";
    token_never: "هرگز", "Never";
    token_revoke: "ابطال", "Revoke";
    token_revoked: "باطل شده", "Revoked";
    tokens_empty: "هنوز کلیدی نساخته‌اید.", "No tokens yet.";
    token_example: "نمونه‌ی درخواست:", "Example request:";
    cause_first_party_hung_up: "نفر اول قطع کرد", "First party hung up";
    cause_second_party_hung_up: "نفر دوم قطع کرد", "Second party hung up";
    cause_max_duration: "سقف مدت تماس", "Time limit reached";
    cause_credit_exhausted: "اعتبار تمام شد", "Credit ran out";
    cause_api_hangup: "قطع با درخواست API", "Hung up through the API";
    cause_server_restart: "راه‌اندازی دوباره‌ی سرور", "Server restart";
    cause_busy: "مشغول", "Busy";
    cause_no_answer: "بی‌پاسخ", "No answer";
    cause_unreachable: "در دسترس نیست", "Unreachable";
    cause_rejected: "رد شد", "Declined";
    cause_hangup: "قطع کرد", "Hung up";
    cause_media_timeout: "صدایی نرسید (قطع خودکار)", "No audio (hung up automatically)";
    cause_failed: "خطای شبکه‌ی تلفن", "Telephone network error";
    cause_telephony_error: "خطای سامانه‌ی تلفن", "Telephony error";
    cause_server_shutdown: "خاموش شدن سرور", "Server shutdown";
    ev_queued: "در صف قرار گرفت", "Queued";
    ev_dialing: "شماره‌گیری", "Dialing";
    ev_ringing: "زنگ می‌خورد", "Ringing";
    ev_answered: "پاسخ داد", "Answered";
    ev_welcome: "پخش پیام خوشامد", "Welcome message";
    ev_bridged: "دو طرف وصل شدند", "Parties connected";
    ev_held: "{n} ثانیه اعتبار رزرو شد", "{n} s of credit held";
    ev_leg_ended: "مسیر پایان یافت", "Leg ended";
    err_invalid_url: "یک نشانی http یا https بنویسید.", "Enter an http or https URL.";
    err_private_url: "این نشانی به شبکه‌ی خصوصی اشاره می‌کند و پذیرفته نیست.", "This URL points into a private network and is not allowed.";
    err_unresolvable_url: "نام این میزبان پیدا نشد.", "This host name does not resolve.";
    welcome_title: "پیام خوشامد", "Welcome message";
    welcome_lead: "وقتی نفر اول پاسخ می‌دهد این پیام برایش پخش می‌شود. WAV، MP3، OGG یا FLAC، حداکثر ۵ مگابایت و ۳۰ ثانیه. سکوت ابتدا و انتها حذف و بلندی صدا یکسان می‌شود.", "Played to the first party when they answer. WAV, MP3, OGG or FLAC, up to 5 MB and 30 seconds. Silence at both ends is trimmed and the loudness evened out.";
    welcome_none: "هنوز پیامی بارگذاری نکرده‌اید؛ یک آوای کوتاه پخش می‌شود.", "No message uploaded yet; a short chime plays instead.";
    welcome_upload: "بارگذاری", "Upload";
    welcome_delete: "حذف پیام", "Delete message";
    welcome_saved: "پیام خوشامد ذخیره شد.", "Welcome message saved.";
    welcome_empty: "فایلی انتخاب نشده یا خالی است.", "The file is empty.";
    welcome_too_large: "فایل بزرگ‌تر از ۵ مگابایت است.", "The file is larger than 5 MB.";
    welcome_not_audio: "این فایل صوتی نیست.", "This file is not audio.";
    welcome_unsupported: "قالب صوتی این فایل پشتیبانی نمی‌شود؛ WAV، MP3، OGG یا FLAC بفرستید.", "This audio format is not supported; send WAV, MP3, OGG or FLAC.";
    welcome_too_long: "پیام بیش از ۳۰ ثانیه است.", "The message is longer than 30 seconds.";
    welcome_silent: "در این فایل صدایی شنیده نمی‌شود.", "This file is silent.";
    welcome_corrupt: "فایل خراب یا ناقص است.", "The file is damaged or incomplete.";
    nav_docs: "راهنمای API", "API docs";
    docs_title: "راهنمای API", "API documentation";
    docs_lead: "سامانه‌ی دیسپچ شما با این درخواست‌ها تماس امن برقرار می‌کند. سند کامل OpenAPI 3.1:", "Your dispatch system places safe calls with these requests. The full OpenAPI 3.1 document:";
    docs_endpoints: "درخواست‌ها", "Endpoints";
    docs_examples: "نمونه‌ها", "Examples";
    docs_no_token: "هنوز کلید API ندارید؛ نمونه‌ها با کلید شما کامل می‌شوند.", "You have no API token yet; the examples fill in yours.";
    docs_errors: "کدهای خطا", "Error codes";
    docs_sandbox: "شماره‌های محیط آزمایشی", "Sandbox numbers";
    docs_webhooks: "امضای وب‌هوک", "Webhook signatures";
    nav_webhooks: "وب‌هوک‌ها", "Webhooks";
    webhooks_title: "وب‌هوک‌ها", "Webhooks";
    webhooks_lead: "پل رویدادهای تماس (زنگ، پاسخ، پایان، آماده‌شدن ضبط) و کمبود اعتبار را به این نشانی می‌فرستد. هر درخواست با سرآیند Pol-Signature امضا می‌شود.", "Pol posts call events (ringing, answered, completed, recording ready) and low-balance warnings to this URL. Every request is signed in the Pol-Signature header.";
    webhook_url: "نشانی وب‌هوک", "Webhook URL";
    webhook_secret: "کلید امضا", "Signing secret";
    webhook_rotate: "ساخت کلید تازه", "Rotate secret";
    webhook_test: "ارسال رویداد آزمایشی", "Send test event";
    webhook_sent: "در صف ارسال قرار گرفت.", "Queued for delivery.";
    webhook_rotated: "کلید تازه ساخته شد؛ از این پس با آن امضا می‌شود.", "A new secret was made; deliveries are signed with it from now on.";
    webhook_log: "ارسال‌ها", "Deliveries";
    webhook_empty: "هنوز چیزی ارسال نشده است.", "Nothing sent yet.";
    webhook_event: "رویداد", "Event";
    webhook_attempts: "تلاش", "Attempts";
    webhook_answer: "پاسخ", "Answer";
    webhook_resend: "ارسال دوباره", "Resend";
    webhook_verify: "بررسی امضا", "Verifying the signature";
    delivery_pending: "در انتظار", "Pending";
    delivery_delivered: "رسید", "Delivered";
    delivery_failed: "ناموفق", "Failed";
    err_out_of_range: "این مقدار خارج از بازه‌ی مجاز است.", "This value is outside the allowed range.";
    err_caller_id: "شماره‌ی نمایشی باید ۳ تا ۱۵ رقم باشد، مثل ۰۲۱۹۱۰۰۰۰۰۰.", "The caller ID must be 3 to 15 digits, like 02191000000.";
    err_same_number: "شماره‌ی مسافر و راننده نباید یکی باشد.", "The passenger and the driver must have different numbers.";
    err_insufficient_credit: "اعتبار کافی برای این تماس ندارید. ابتدا اعتبار بخرید.", "Not enough talk time for this call. Top up first.";
    err_concurrency: "به سقف تماس‌های هم‌زمان رسیده‌اید. کمی بعد دوباره تلاش کنید.", "You have reached your limit of simultaneous calls. Try again shortly.";
    err_not_a_number: "یک عدد بنویسید.", "Enter a whole number.";
    err_amount_range: "مبلغ باید بین ۱۰٬۰۰۰ و ۵۰٬۰۰۰٬۰۰۰ تومان باشد.", "The amount must be between 10,000 and 50,000,000 Toman.";
    err_gateway: "درگاه پرداخت در دسترس نیست؛ مبلغی کسر نشد. کمی بعد دوباره تلاش کنید.", "The payment gateway is unavailable; nothing was charged. Please try again shortly.";
    err_invalid: "برخی بخش‌ها را باید درست کنید.", "Please correct the highlighted fields.";
    err_credentials: "ایمیل یا رمز عبور درست نیست.", "Wrong e-mail or password.";
    err_throttled: "تلاش‌های ناموفق زیاد بود. لطفاً {n} دقیقه‌ی دیگر دوباره تلاش کنید.", "Too many failed attempts. Please try again in {n} minutes.";
    err_csrf: "فرم منقضی شده است. صفحه را تازه کنید و دوباره بفرستید.", "This form has expired. Reload the page and submit again.";
    err_unauthenticated: "نخست وارد شوید.", "Please log in first.";
    err_forbidden: "نقش شما اجازه‌ی این کار را نمی‌دهد.", "Your role does not allow this.";
    err_not_found: "پیدا نشد.", "Not found.";
    err_link: "این پیوند نامعتبر است، منقضی شده یا پیش‌تر استفاده شده است.", "This link is invalid, has expired or was already used.";
    err_internal: "خطایی در سرور رخ داد. دوباره تلاش کنید.", "Something went wrong on our side. Please try again.";
    err_request: "ارتباط با سرور برقرار نشد. اتصال را بررسی کنید.", "Could not reach the server. Check your connection.";
}

impl Texts {
    /// The name of a payment status.
    pub fn payment_status(&self, status: &str) -> &'static str {
        match status {
            "paid" => self.payment_paid,
            "failed" => self.payment_failed,
            "canceled" => self.payment_canceled,
            _ => self.payment_pending,
        }
    }

    /// The name of a call status.
    pub fn call_status(&self, status: crate::domain::CallStatus) -> &'static str {
        use crate::domain::CallStatus as S;
        match status {
            S::Queued => self.status_queued,
            S::Ringing => self.status_ringing,
            S::InProgress => self.status_in_progress,
            S::Completed => self.status_completed,
            S::Busy => self.status_busy,
            S::NoAnswer => self.status_no_answer,
            S::Failed => self.status_failed,
            S::Canceled => self.status_canceled,
        }
    }

    /// A cause code in words (unknown codes are shown as they are).
    pub fn cause<'a>(&self, code: &'a str) -> &'a str {
        match code {
            "first_party_hung_up" => self.cause_first_party_hung_up,
            "second_party_hung_up" => self.cause_second_party_hung_up,
            "max_duration" => self.cause_max_duration,
            "credit_exhausted" => self.cause_credit_exhausted,
            "api_hangup" => self.cause_api_hangup,
            "server_restart" => self.cause_server_restart,
            "busy" => self.cause_busy,
            "no-answer" => self.cause_no_answer,
            "unreachable" => self.cause_unreachable,
            "rejected" => self.cause_rejected,
            "hangup" => self.cause_hangup,
            "media_timeout" => self.cause_media_timeout,
            "failed" => self.cause_failed,
            "telephony_error" => self.cause_telephony_error,
            "server_shutdown" => self.cause_server_shutdown,
            other => other,
        }
    }

    /// A timeline event in words.
    pub fn event<'a>(&self, kind: &'a str) -> &'a str {
        match kind {
            "queued" => self.ev_queued,
            "dialing" => self.ev_dialing,
            "ringing" => self.ev_ringing,
            "answered" => self.ev_answered,
            "welcome" => self.ev_welcome,
            "bridged" => self.ev_bridged,
            "leg_ended" => self.ev_leg_ended,
            other => other
                .parse::<crate::domain::CallStatus>()
                .map_or(other, |s| self.call_status(s)),
        }
    }

    /// The name of a party (`passenger` or `driver`).
    pub fn party(&self, party: &str) -> &'static str {
        if party == "driver" {
            self.party_driver
        } else {
            self.party_passenger
        }
    }

    /// The name of a role.
    pub fn role(&self, role: Role) -> &'static str {
        match role {
            Role::Owner => self.role_owner,
            Role::Admin => self.role_admin,
            Role::Viewer => self.role_viewer,
        }
    }

    /// The message for a field problem.
    pub fn problem(&self, problem: Problem) -> &'static str {
        match problem {
            Problem::Required => self.err_required,
            Problem::TooLong => self.err_too_long,
            Problem::Phone(PhoneError::Empty) => self.err_phone_empty,
            Problem::Phone(PhoneError::InvalidCharacters) => self.err_phone_chars,
            Problem::Phone(PhoneError::NotMobile) => self.err_phone_mobile,
            Problem::Email(EmailError::Empty) => self.err_email_empty,
            Problem::Email(EmailError::Invalid) => self.err_email_invalid,
            Problem::Email(EmailError::TooLong) => self.err_email_long,
            Problem::Password(PasswordError::TooShort) => self.err_password_short,
            Problem::Password(PasswordError::TooLong) => self.err_password_long,
            Problem::Password(PasswordError::TooCommon) => self.err_password_common,
            Problem::EmailTaken => self.err_email_taken,
            Problem::WrongPassword => self.err_wrong_password,
            Problem::InvalidChoice => self.err_choice,
            Problem::AlreadyMember => self.err_already_member,
            Problem::LastOwner => self.err_last_owner,
            Problem::NotANumber => self.err_not_a_number,
            Problem::AmountOutOfRange => self.err_amount_range,
            Problem::ExceedsBalance => self.err_exceeds_balance,
            Problem::OutOfRange => self.err_out_of_range,
            Problem::SameNumber => self.err_same_number,
            Problem::InvalidCallerId => self.err_caller_id,
            Problem::InvalidUrl => self.err_invalid_url,
            Problem::PrivateUrl => self.err_private_url,
            Problem::UnresolvableUrl => self.err_unresolvable_url,
        }
    }
}

impl AppError {
    /// The message for this error in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let t = lang.t();
        match self {
            AppError::Invalid(_) => t.err_invalid.into(),
            AppError::InvalidCredentials => t.err_credentials.into(),
            AppError::Throttled { minutes } => t
                .err_throttled
                .replace("{n}", &lang.int(i64::from(*minutes))),
            AppError::Csrf => t.err_csrf.into(),
            AppError::Unauthenticated => t.err_unauthenticated.into(),
            AppError::Forbidden => t.err_forbidden.into(),
            AppError::NotFound => t.err_not_found.into(),
            AppError::LinkInvalid => t.err_link.into(),
            AppError::GatewayUnavailable => t.err_gateway.into(),
            AppError::InsufficientCredit => t.err_insufficient_credit.into(),
            AppError::ConcurrencyLimit => t.err_concurrency.into(),
            AppError::Internal => t.err_internal.into(),
            AppError::Request(_) => t.err_request.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_dates_use_the_jalali_calendar_and_persian_digits() {
        // 2024-03-19T20:30:00Z is Nowruz 1403 at midnight in Tehran.
        assert_eq!(Lang::Fa.datetime(1_710_880_200_000), "۱۴۰۳/۰۱/۰۱ ۰۰:۰۰");
        assert_eq!(Lang::En.datetime(1_710_880_200_000), "2024/03/20 00:00");
    }

    #[test]
    fn the_throttle_message_names_the_minutes_in_the_users_digits() {
        let err = AppError::Throttled { minutes: 12 };
        assert!(err.message(Lang::Fa).contains("۱۲ دقیقه"));
        assert!(err.message(Lang::En).contains("12 minutes"));
    }
}
