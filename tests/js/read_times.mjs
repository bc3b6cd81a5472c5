// Read iCalendar files the way Thunderbird and Nextcloud do (ical.js) and print
// each event's method, UID, SEQUENCE and start/end instants as UTC seconds.
//
//   node read_times.mjs FILE...   ->   {"FILE": {"method", "uid", "sequence", "start", "end"}, ...}
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const out = {};
for (const path of process.argv.slice(2)) {
  const calendar = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
  // A VTIMEZONE in the object is what ical.js resolves TZID times with.
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(zone);
  }
  const vevent = calendar.getFirstSubcomponent("vevent");
  const event = new ICAL.Event(vevent);
  const attendee = vevent.getFirstProperty("attendee");
  out[path] = {
    method: calendar.getFirstPropertyValue("method"),
    uid: event.uid,
    sequence: event.sequence,
    start: event.startDate.toUnixTime(),
    end: event.endDate.toUnixTime(),
    rsvp: attendee ? attendee.getParameter("rsvp") ?? null : null,
  };
}
process.stdout.write(JSON.stringify(out));
