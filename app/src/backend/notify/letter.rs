//! What a message says: its subject, a text and an HTML part with the
//! booking's facts, and its calendar file. Pure: everything it tells is
//! given to it.

use crate::backend::store::MessageKind;
use crate::domain::views::BookingView;
use chrono::{DateTime, Duration, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::Message;

use super::ics::{calendar_file, CalendarUse};

/// Everything a message tells, read when it is sent.
#[derive(Clone, Debug)]
pub struct Letter {
    /// The outbox row's id: the message's identity (its Message-ID), the
    /// same however often it is sent.
    pub message_id: i64,
    pub kind: MessageKind,
    /// The booking, with its time as the message tells it.
    pub view: BookingView,
    /// The earlier time of a move; the reason of a venue's cancellation.
    pub detail: Option<String>,
    pub to: Mailbox,
    pub customer_name: String,
    /// Where customers reach the app, e.g. `https://book.example.com`.
    pub public_url: String,
    /// How long before its start the calendar reminds of the booking.
    pub remind_before: Option<Duration>,
    pub stamp: DateTime<Utc>,
}

impl Letter {
    pub fn subject(&self) -> String {
        let v = &self.view;
        match self.kind {
            MessageKind::Booked | MessageKind::Confirmed => {
                format!(
                    "Booking confirmed: {} at {}, {}",
                    v.what, v.venue_name, v.when
                )
            }
            MessageKind::Cancelled => {
                format!(
                    "Booking cancelled: {} at {}, {}",
                    v.what, v.venue_name, v.when
                )
            }
            MessageKind::VenueCancelled => format!(
                "{} cancelled your booking: {}, {}",
                v.venue_name, v.what, v.when
            ),
            MessageKind::Rescheduled => format!(
                "Booking moved to {}: {} at {}",
                v.when, v.what, v.venue_name
            ),
            MessageKind::Moved => format!(
                "{} moved your booking to {}: {}",
                v.venue_name, v.when, v.what
            ),
            MessageKind::Reminder => {
                format!("Reminder: {} at {}, {}", v.what, v.venue_name, v.when)
            }
            MessageKind::WaitlistOffer => format!(
                "A time came free for you: {} at {}, {}",
                v.what, v.venue_name, v.when
            ),
        }
    }

    /// The opening paragraph: what happened.
    fn lead(&self) -> String {
        let v = &self.view;
        let earlier = self.detail.as_deref().unwrap_or("its earlier time");
        match self.kind {
            MessageKind::Booked | MessageKind::Confirmed => {
                "Your booking is confirmed. We look forward to seeing you.".to_owned()
            }
            MessageKind::Cancelled => {
                "You cancelled this booking; its time is free for others again.".to_owned()
            }
            MessageKind::VenueCancelled => format!(
                "We are sorry: {} had to cancel this booking{}. Nothing is owed for it, and you \
                 can pick another time at the link below.",
                v.venue_name,
                reason(self.detail.as_deref())
            ),
            MessageKind::Rescheduled => {
                format!("Your booking has moved from {earlier} to the time below.")
            }
            MessageKind::Moved => format!(
                "{} moved your booking from {earlier} to the time below. If it does not suit \
                 you, you can reschedule or cancel it at the link below.",
                v.venue_name
            ),
            MessageKind::Reminder => "A reminder of your booking, coming up soon.".to_owned(),
            MessageKind::WaitlistOffer => format!(
                "You are on the waitlist, and a time came free: we are holding it for you \
                 until {}. Confirm it to book it; if you do not, it goes to the next person \
                 waiting.",
                v.hold_expires_label.as_deref().unwrap_or("a little while")
            ),
        }
    }

    /// The booking's facts, as (label, value) lines.
    fn facts(&self) -> Vec<(&'static str, String)> {
        let v = &self.view;
        let mut facts = vec![
            ("What", v.what.clone()),
            ("When", format!("{} ({})", v.when, v.span_label)),
        ];
        if !v.with.is_empty() {
            facts.push(("With", v.with.clone()));
        }
        facts.push(("Where", v.venue_line()));
        if let Some(price) = &v.price_label {
            facts.push(("Price", price.clone()));
        }
        if let Some(note) = v.booking.note.as_deref().filter(|n| !n.is_empty()) {
            facts.push(("Your note", note.to_owned()));
        }
        facts.push(("Booking", format!("#{}", v.booking.id)));
        facts
    }

    /// A waitlist offer: a hold, not yet a booking, so no calendar file.
    fn is_offer(&self) -> bool {
        self.kind == MessageKind::WaitlistOffer
    }

    fn is_cancellation(&self) -> bool {
        matches!(
            self.kind,
            MessageKind::Cancelled | MessageKind::VenueCancelled
        )
    }

    /// What the customer may do next, with its link.
    fn next_steps(&self) -> Vec<(String, String)> {
        let base = self.public_url.trim_end_matches('/');
        if self.is_offer() {
            vec![(
                "Confirm it, or let it go".to_owned(),
                format!("{base}/holds/{}", self.view.booking.id),
            )]
        } else if self.is_cancellation() {
            vec![(
                "Book another time".to_owned(),
                format!("{base}{}", self.view.times_link),
            )]
        } else {
            vec![
                (
                    format!(
                        "Reschedule or cancel (free until {})",
                        self.view.cancel_until_label
                    ),
                    format!("{base}/bookings"),
                ),
                (
                    "Add it to your calendar".to_owned(),
                    format!("{base}/bookings/{}/calendar.ics", self.view.booking.id),
                ),
            ]
        }
    }

    pub fn text(&self) -> String {
        let mut out = format!("Hello {},\n\n{}\n\n", self.customer_name, self.lead());
        for (label, value) in self.facts() {
            out.push_str(&format!("{label}: {value}\n"));
        }
        out.push('\n');
        for (label, link) in self.next_steps() {
            out.push_str(&format!("{label}: {link}\n"));
        }
        out.push_str(&format!("\n{}\n", self.view.venue_name));
        out
    }

    pub fn html(&self) -> String {
        let mut out = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"font-family: sans-serif; line-height: 1.5\">\
             <p>Hello {},</p><p>{}</p><table role=\"presentation\">",
            escape(&self.subject()),
            escape(&self.customer_name),
            escape(&self.lead())
        );
        for (label, value) in self.facts() {
            out.push_str(&format!(
                "<tr><th scope=\"row\" style=\"text-align: left; padding-right: 1em\">{}</th><td>{}</td></tr>",
                escape(label),
                escape(&value)
            ));
        }
        out.push_str("</table><p>");
        for (label, link) in self.next_steps() {
            out.push_str(&format!(
                "<a href=\"{}\">{}</a><br>",
                escape(&link),
                escape(&label)
            ));
        }
        out.push_str(&format!(
            "</p><p>{}</p></body></html>",
            escape(&self.view.venue_name)
        ));
        out
    }

    /// The calendar file: the booking as it is now, or its cancellation.
    pub fn calendar(&self) -> String {
        let how = if self.is_cancellation() {
            CalendarUse::Cancel
        } else {
            CalendarUse::Publish
        };
        calendar_file(
            &self.view,
            how,
            self.view.booking.version,
            self.remind_before,
            self.stamp,
        )
    }

    /// The email: text and HTML, the calendar file attached, and a
    /// Message-ID made from the outbox row (the same on every attempt).
    pub fn email(&self, from: &Mailbox) -> Result<Message, lettre::error::Error> {
        let host = from.email.domain().to_owned();
        let calendar = self.calendar();
        let method = if self.is_cancellation() {
            "CANCEL"
        } else {
            "PUBLISH"
        };
        let ics_type =
            ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                .expect("a valid content type");
        let builder = Message::builder()
            .from(from.clone())
            .to(self.to.clone())
            .subject(self.subject())
            .message_id(Some(format!(
                "<message-{}.booking-{}@{host}>",
                self.message_id, self.view.booking.id
            )));
        let body = MultiPart::alternative_plain_html(self.text(), self.html());
        if self.is_offer() {
            return builder.multipart(body);
        }
        builder.multipart(
            MultiPart::mixed().multipart(body).singlepart(
                Attachment::new(format!("booking-{}.ics", self.view.booking.id))
                    .body(calendar, ics_type),
            ),
        )
    }
}

/// Why the venue cancelled, from the kind of change that did it.
fn reason(code: Option<&str>) -> &'static str {
    match code {
        Some("closure.add") => ", as it is closed at that time",
        Some("resource.hours") => ", as its opening hours changed",
        Some("resource.edit") | Some("resource.services") => {
            ", as who or what it was with is no longer available then"
        }
        Some("service.edit") => ", as the treatment changed",
        Some("venue.settings") => ", as its booking rules changed",
        _ => "",
    }
}

/// Text for HTML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
