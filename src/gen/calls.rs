//! Call logs (formats.md §3): the office PBX's Asterisk `calls/Master.csv` (cdr_csv with
//! `loguniqueid`, `loguserfield` and `newcdrcolumns`: 21 columns, `linkedid` in column 20)
//! and the sales line's Twilio call log `calls/twilio-calls.csv` (API field names).

use super::population::{Customer, AGENTS};
use super::{Body, CallOutcome, Event, Out, BUSINESS_NUMBERS, TZ};
use crate::model::{Channel, Direction};
use chrono::{TimeZone, Utc};
use std::path::Path;

pub const ASTERISK: &str = "calls/Master.csv";
pub const TWILIO: &str = "calls/twilio-calls.csv";
const TWILIO_HEADER: &str = "sid,parent_call_sid,date_created,date_updated,account_sid,from,from_formatted,to,to_formatted,phone_number_sid,status,start_time,end_time,duration,price,price_unit,direction,answered_by,forwarded_from,caller_name,group_sid,queue_time,trunk_sid,api_version,uri\n";
const ACCOUNT: &str = "AC5e1f0c2b7d9a4e6f8b3c1d0e2f4a6b8c";

/// Writes both call logs.
pub struct CallWriters {
    asterisk: Out,
    twilio: Out,
    seed: u64,
    /// Channel counter for `SIP/…-0000abcd` names and uniqueid suffixes.
    counter: u64,
    pub calls: u64,
    pub rows: u64,
}

fn local(ts: i64) -> String {
    TZ.timestamp_millis_opt(ts)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn rfc2822_utc(ts: i64) -> String {
    Utc.timestamp_millis_opt(ts)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// A CSV field quoted the way cdr_csv quotes text columns.
fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

struct Leg<'a> {
    src: &'a str,
    dst: &'a str,
    dcontext: &'a str,
    clid: String,
    channel: String,
    dstchannel: String,
    lastapp: &'a str,
    lastdata: String,
    start: i64,
    answer: Option<i64>,
    end: i64,
    disposition: &'a str,
    uniqueid: String,
    linkedid: String,
    sequence: u64,
}

impl CallWriters {
    pub fn create(root: &Path, seed: u64) -> anyhow::Result<CallWriters> {
        let asterisk = Out::create(root, ASTERISK)?;
        let mut twilio = Out::create(root, TWILIO)?;
        twilio.write_str(TWILIO_HEADER)?;
        Ok(CallWriters {
            asterisk,
            twilio,
            seed,
            counter: 0,
            calls: 0,
            rows: 0,
        })
    }

    fn sid(&mut self) -> String {
        self.counter += 1;
        let mut h = blake3::Hasher::new();
        h.update(b"twilio");
        h.update(&self.seed.to_le_bytes());
        h.update(&self.counter.to_le_bytes());
        format!("CA{}", &h.finalize().to_hex()[..32])
    }

    fn chan(&mut self, peer: &str) -> String {
        self.counter += 1;
        format!("SIP/{peer}-{:08x}", self.counter)
    }

    fn leg(&mut self, l: Leg<'_>) -> anyhow::Result<()> {
        let duration = (l.end - l.start) / 1000;
        let billsec = l.answer.map_or(0, |a| (l.end - a) / 1000);
        let answer = l.answer.map(|a| q(&local(a))).unwrap_or_default();
        let row = format!(
            "\"\",{},{},{},{},{},{},{},{},{},{answer},{},{duration},{billsec},{},\"DOCUMENTATION\",{},\"\",\"\",{},{}\n",
            q(l.src),
            q(l.dst),
            q(l.dcontext),
            q(&l.clid),
            q(&l.channel),
            q(&l.dstchannel),
            q(l.lastapp),
            q(&l.lastdata),
            q(&local(l.start)),
            q(&local(l.end)),
            q(l.disposition),
            q(&l.uniqueid),
            q(&l.linkedid),
            l.sequence,
        );
        self.asterisk.write_str(&row)?;
        self.rows += 1;
        Ok(())
    }

    fn uniqueid(&mut self, ts: i64) -> String {
        self.counter += 1;
        format!("{}.{}", ts / 1000, self.counter)
    }

    fn asterisk_call(&mut self, c: Option<&Customer>, e: &Event) -> anyhow::Result<String> {
        let Body::Call {
            outcome,
            talk_s,
            ring_s,
            number,
            queue_legs,
            ..
        } = &e.body
        else {
            unreachable!()
        };
        let agent = &AGENTS[e.agent];
        let start = e.ts;
        let ring = i64::from(*ring_s) * 1000;
        let talk = i64::from(*talk_s) * 1000;
        let first = self.uniqueid(start);
        let caller = if (start / 1000) % 10 < 7 {
            number.national.clone()
        } else {
            number.e164()
        };
        let caller_name = match c {
            Some(c) if number.national.starts_with("01") || number.national.starts_with("02") => {
                format!("{} {}", c.family.to_uppercase(), c.given.name.chars().next().unwrap())
            }
            _ => String::new(),
        };
        match e.dir {
            Direction::Internal => {
                let callee = number.national.clone();
                let (ch, dch) = (self.chan(agent.ext), self.chan(&callee));
                self.leg(Leg {
                    src: agent.ext,
                    dst: &callee,
                    dcontext: "from-internal",
                    clid: format!("\"{}\" <{}>", agent.name, agent.ext),
                    channel: ch,
                    dstchannel: dch,
                    lastapp: "Dial",
                    lastdata: format!("SIP/{callee},30,t"),
                    start,
                    answer: Some(start + ring),
                    end: start + ring + talk,
                    disposition: "ANSWERED",
                    uniqueid: first.clone(),
                    linkedid: first.clone(),
                    sequence: self.counter,
                })?;
            }
            Direction::Outbound => {
                let answered = *outcome == CallOutcome::Answered;
                let (ch, dch) = (self.chan(agent.ext), self.chan("trunk"));
                self.leg(Leg {
                    src: agent.ext,
                    dst: &number.national,
                    dcontext: "from-internal",
                    clid: format!("\"{}\" <{}>", agent.name, agent.ext),
                    channel: ch,
                    dstchannel: dch,
                    lastapp: "Dial",
                    lastdata: format!("SIP/trunk/{},60", number.national),
                    start,
                    answer: answered.then_some(start + ring),
                    end: start + ring + talk,
                    disposition: if answered { "ANSWERED" } else { "NO ANSWER" },
                    uniqueid: first.clone(),
                    linkedid: first.clone(),
                    sequence: self.counter,
                })?;
            }
            _ => {
                let clid = format!("\"{caller_name}\" <{caller}>");
                let trunk = self.chan("trunk");
                match outcome {
                    CallOutcome::Voicemail => {
                        self.leg(Leg {
                            src: &caller,
                            dst: "02079460000",
                            dcontext: "from-pstn",
                            clid,
                            channel: trunk,
                            dstchannel: String::new(),
                            lastapp: "VoiceMail",
                            lastdata: format!("{}@default,u", agent.ext),
                            start,
                            answer: Some(start + ring),
                            end: start + ring + 20_000 + (start % 30_000),
                            disposition: "ANSWERED",
                            uniqueid: first.clone(),
                            linkedid: first.clone(),
                            sequence: self.counter,
                        })?;
                    }
                    CallOutcome::Busy => {
                        let dch = self.chan(agent.ext);
                        self.leg(Leg {
                            src: &caller,
                            dst: "02079460000",
                            dcontext: "from-pstn",
                            clid,
                            channel: trunk,
                            dstchannel: dch,
                            lastapp: "Dial",
                            lastdata: format!("SIP/{},30,t", agent.ext),
                            start,
                            answer: None,
                            end: start + 2000,
                            disposition: "BUSY",
                            uniqueid: first.clone(),
                            linkedid: first.clone(),
                            sequence: self.counter,
                        })?;
                    }
                    _ if *queue_legs > 1 => {
                        // The queue rings agents in turn: one row per attempt, one linkedid.
                        let answered = *outcome == CallOutcome::Answered;
                        let mut t = start;
                        for i in 0..*queue_legs {
                            let last = i + 1 == *queue_legs;
                            let ext = if last {
                                agent.ext
                            } else {
                                AGENTS[(e.agent + 1 + i as usize) % AGENTS.len()].ext
                            };
                            let dch = self.chan(ext);
                            let uid = if i == 0 { first.clone() } else { self.uniqueid(t) };
                            let picked = last && answered;
                            let leg_ring = ring.min(15_000);
                            self.leg(Leg {
                                src: &caller,
                                dst: "400",
                                dcontext: "ext-queues",
                                clid: clid.clone(),
                                channel: trunk.clone(),
                                dstchannel: dch,
                                lastapp: "Queue",
                                lastdata: "400,t,,,300".into(),
                                start: t,
                                answer: picked.then_some(t + leg_ring),
                                end: t + leg_ring + if picked { talk } else { 0 },
                                disposition: if picked { "ANSWERED" } else { "NO ANSWER" },
                                uniqueid: uid,
                                linkedid: first.clone(),
                                sequence: self.counter,
                            })?;
                            t += leg_ring;
                        }
                    }
                    _ => {
                        let answered = *outcome == CallOutcome::Answered;
                        let dch = self.chan(agent.ext);
                        self.leg(Leg {
                            src: &caller,
                            dst: "02079460000",
                            dcontext: "from-pstn",
                            clid,
                            channel: trunk,
                            dstchannel: dch,
                            lastapp: "Dial",
                            lastdata: format!("SIP/{},30,t", agent.ext),
                            start,
                            answer: answered.then_some(start + ring),
                            end: start + ring + talk,
                            disposition: if answered { "ANSWERED" } else { "NO ANSWER" },
                            uniqueid: first.clone(),
                            linkedid: first.clone(),
                            sequence: self.counter,
                        })?;
                    }
                }
            }
        }
        Ok(first)
    }

    #[allow(clippy::too_many_arguments)]
    fn twilio_row(
        &mut self,
        sid: &str,
        parent: &str,
        from: &str,
        to: &str,
        status: &str,
        start: i64,
        end: i64,
        direction: &str,
        caller_name: &str,
    ) -> anyhow::Result<()> {
        let fmt = |n: &str| match n.strip_prefix("+44") {
            Some(rest) if rest.starts_with('7') || rest.starts_with('4') => format!("0{} {}", &rest[..4], &rest[4..]),
            Some(rest) => format!("0{} {} {}", &rest[..2], &rest[2..6], &rest[6..]),
            None => n.to_string(),
        };
        let duration = (end - start) / 1000;
        let price = if duration > 0 {
            format!("-{:.5}", 0.0085 * ((duration + 59) / 60) as f64)
        } else {
            String::new()
        };
        let row = format!(
            "{sid},{parent},{},{},{ACCOUNT},{from},{},{to},{},PN0b5c7e9d1f3a5c7e9b1d3f5a7c9e1b3d,{status},{},{},{duration},{price},USD,{direction},,,{caller_name},,0,,2010-04-01,/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json\n",
            q(&rfc2822_utc(start)),
            q(&rfc2822_utc(end)),
            q(&fmt(from)),
            q(&fmt(to)),
            q(&rfc2822_utc(start)),
            q(&rfc2822_utc(end)),
        );
        self.twilio.write_str(&row)?;
        self.rows += 1;
        Ok(())
    }

    fn twilio_call(&mut self, e: &Event) -> anyhow::Result<String> {
        let Body::Call {
            outcome,
            talk_s,
            ring_s,
            number,
            ..
        } = &e.body
        else {
            unreachable!()
        };
        let agent = &AGENTS[e.agent];
        let line = BUSINESS_NUMBERS[1];
        let (start, ring, talk) = (e.ts, i64::from(*ring_s) * 1000, i64::from(*talk_s) * 1000);
        let answered = *outcome == CallOutcome::Answered;
        let parent = self.sid();
        let customer = number.e164();
        if e.dir == Direction::Outbound {
            let status = if answered { "completed" } else { "no-answer" };
            self.twilio_row(
                &parent,
                "",
                line,
                &customer,
                status,
                start,
                start + ring + talk,
                "outbound-api",
                "",
            )?;
            return Ok(parent);
        }
        let (status, end) = match outcome {
            CallOutcome::Answered => ("completed", start + ring + talk),
            CallOutcome::Busy => ("busy", start),
            _ => ("no-answer", start + ring),
        };
        self.twilio_row(&parent, "", &customer, line, status, start, end, "inbound", "")?;
        if *outcome != CallOutcome::Busy {
            let child = self.sid();
            let child_status = if answered { "completed" } else { "no-answer" };
            self.twilio_row(
                &child,
                &parent,
                line,
                agent.twilio_client,
                child_status,
                start + 1000,
                end,
                "outbound-dial",
                "",
            )?;
        }
        Ok(parent)
    }

    /// Writes the customer's calls, filling `file`/`source_ref`.
    pub fn write_customer(&mut self, c: &Customer, events: &mut [Event]) -> anyhow::Result<()> {
        for e in events.iter_mut().filter(|e| e.channel == Channel::Call) {
            let Body::Call { twilio, .. } = e.body else { continue };
            let (file, id) = if twilio {
                (TWILIO, self.twilio_call(e)?)
            } else {
                (ASTERISK, self.asterisk_call(Some(c), e)?)
            };
            e.file = file.into();
            e.source_ref = id;
            self.calls += 1;
        }
        Ok(())
    }

    /// Extension-to-extension calls.
    pub fn write_internal(&mut self, events: &mut [Event]) -> anyhow::Result<()> {
        for e in events.iter_mut().filter(|e| e.channel == Channel::Call) {
            let id = self.asterisk_call(None, e)?;
            e.file = ASTERISK.into();
            e.source_ref = id;
            self.calls += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<u64> {
        Ok(self.asterisk.finish()? + self.twilio.finish()?)
    }
}
