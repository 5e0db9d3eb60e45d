// The context simulator: the moment's signals the page hands the engine with
// setContext. Coordinates (a city from the list, or the browser's
// geolocation) go to the engine, which turns them into a country, a
// subdivision and the shop's regions at once and drops them. Without them
// the SDK hands over the browser's time zone, which the engine turns into a
// country. The weather comes from the shop's signed weather feed, joined
// with that region on the device; a chip here overrides it.

import { el } from './dom.js';

export const CITIES = [
  { id: 'seattle', name: 'Seattle, USA', lat: 47.61, lon: -122.33 },
  { id: 'denver', name: 'Denver, USA', lat: 39.74, lon: -104.99 },
  { id: 'san-francisco', name: 'San Francisco, USA', lat: 37.77, lon: -122.42 },
  { id: 'burlington', name: 'Burlington, Vermont, USA', lat: 44.48, lon: -73.21 },
  { id: 'london', name: 'London, UK', lat: 51.51, lon: -0.13 },
  { id: 'paris', name: 'Paris, France', lat: 48.86, lon: 2.35 },
  { id: 'chamonix', name: 'Chamonix, France', lat: 45.92, lon: 6.87 },
  { id: 'zermatt', name: 'Zermatt, Switzerland', lat: 46.02, lon: 7.75 },
  { id: 'oslo', name: 'Oslo, Norway', lat: 59.91, lon: 10.75 },
  { id: 'berlin', name: 'Berlin, Germany', lat: 52.52, lon: 13.40 },
  { id: 'tokyo', name: 'Tokyo, Japan', lat: 35.68, lon: 139.69 },
  { id: 'sydney', name: 'Sydney, Australia', lat: -33.87, lon: 151.21 },
];

const WEATHER = [['', 'Feed'], ['clear', 'Clear'], ['cloudy', 'Cloudy'], ['rain', 'Rain'], ['snow', 'Snow'], ['storm', 'Storm'], ['hot', 'Hot'], ['cold', 'Cold']];
const DAYPARTS = [['morning', 'Morning'], ['afternoon', 'Afternoon'], ['evening', 'Evening'], ['night', 'Night']];
const WEEKDAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];
const VISITS = [['', 'Not counted'], ['1', 'First visit'], ['3', 'Third visit'], ['6', 'Sixth visit or more']];
const REFERRERS = [['', 'Not known'], ['direct', 'Typed the address'], ['search', 'A search engine'], ['social', 'Social media'], ['email', 'An email'], ['partner', 'A partner site']];
const SECTIONS = [['', 'The home page'], ['running', 'Running'], ['hiking', 'Hiking'], ['camping', 'Camping'], ['climbing', 'Climbing'], ['winter', 'Winter']];
const GEO = 'geolocation';

// What to say when the browser gives no location, by GeolocationPositionError code.
const GEO_ERRORS = {
  1: 'This browser did not share your location (permission denied). Pick a city instead; nothing was sent.',
  2: 'Your location is not available right now. Pick a city instead.',
  3: 'Finding your location took too long. Try again, or pick a city.',
};

/** The device class the page reports for a viewport width. */
export function deviceFor(width) {
  return width < 700 ? 'mobile' : width < 1024 ? 'tablet' : 'desktop';
}

/** The daypart the engine derives from a local hour. */
export function daypartOf(hour) {
  if (hour >= 5 && hour < 12) return 'morning';
  if (hour >= 12 && hour < 17) return 'afternoon';
  if (hour >= 17 && hour < 22) return 'evening';
  return 'night';
}

function select(name, label, options, hint) {
  const id = `ctx-${name}`;
  return el('div', { class: 'field' },
    el('label', { for: id, text: label }),
    el('select', { id, name }, options.map(([v, t]) => el('option', { value: v, text: t }))),
    hint ? el('p', { class: 'field-hint', text: hint }) : null);
}

export class ContextSimulator {
  /**
   * form: the <form> to build the controls in. onChange() is called after
   * any change.
   */
  constructor(form, { onChange }) {
    this.form = form;
    this.onChange = onChange;
    this.geo = null; // {lat, lon} from the browser, kept in this object only
    this.build();
  }

  build() {
    const now = new Date();
    const cities = [['', 'Time zone only'], ...CITIES.map((c) => [c.id, c.name])];
    const geoButton = el('button', { type: 'button', class: 'btn btn-quiet btn-small', 'data-action': 'geolocate', text: 'Use my location' });
    // Hidden until there is something to say, so the form keeps its size.
    this.geoStatus = el('p', { class: 'fine', 'data-geo-status': '', role: 'status', hidden: true });
    geoButton.addEventListener('click', () => this.geolocate(geoButton));
    const weather = el('fieldset', { class: 'field chips', 'data-weather': '' },
      el('legend', { text: 'Weather', title: "Feed: the shop's weather feed for your region; or pick one" }),
      WEATHER.map(([v, t]) => el('label', { class: 'chip-choice' },
        el('input', { type: 'radio', name: 'weather', value: v, checked: v === '' }), el('span', { text: t }))));
    this.form.replaceChildren(
      el('div', { class: 'field' },
        el('label', { for: 'ctx-city', text: 'Where you are' }),
        el('div', { class: 'field-row' },
          el('select', { id: 'ctx-city', name: 'city' }, cities.map(([v, t]) => el('option', { value: v, text: t }))),
          geoButton),
        this.geoStatus),
      weather,
      el('div', { class: 'field-pair' },
        select('daypart', 'Time of day', [['', `Clock: ${daypartOf(now.getHours())}`], ...DAYPARTS]),
        select('weekday', 'Day', [['', `Clock: ${WEEKDAYS[(now.getDay() + 6) % 7][1]}`], ...WEEKDAYS])),
      el('div', { class: 'field-pair' },
        select('visits', 'Visits in 30 days', VISITS),
        select('device', 'Device', [['', `Screen: ${deviceFor(window.innerWidth)}`], ['mobile', 'Phone'], ['tablet', 'Tablet'], ['desktop', 'Computer']])),
      el('div', { class: 'field-pair' },
        select('referrer', 'Arrived from', REFERRERS),
        select('page_section', 'Browsing', SECTIONS)));
    this.form.addEventListener('change', () => this.onChange());
    this.form.addEventListener('submit', (ev) => ev.preventDefault());
  }

  geolocate(button) {
    const say = (text) => { this.geoStatus.textContent = text; this.geoStatus.hidden = false; };
    if (!navigator.geolocation) {
      say('This browser cannot share a location. Pick a city instead.');
      return;
    }
    button.disabled = true;
    say('Asking this browser for your location…');
    navigator.geolocation.getCurrentPosition((pos) => {
      button.disabled = false;
      this.geo = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      const sel = this.form.elements.city;
      if (!sel.querySelector(`option[value="${GEO}"]`)) sel.append(el('option', { value: GEO, text: 'Your location (from this browser)' }));
      sel.value = GEO;
      say('Using your location on this device only: the engine keeps your coarse region and drops the coordinates.');
      this.onChange();
    }, (err) => {
      button.disabled = false;
      say(GEO_ERRORS[err && err.code] || GEO_ERRORS[2]);
    }, { maximumAge: 600_000, timeout: 15_000 });
  }

  /** Back to the defaults: no location, no weather, the clock and the screen. */
  reset() {
    this.form.reset();
    this.geo = null;
    const geo = this.form.elements.city.querySelector(`option[value="${GEO}"]`);
    if (geo) geo.remove();
  }

  /** The chosen city ({id, name, lat, lon}), the browser's position, or null. */
  place() {
    const v = this.form.elements.city.value;
    if (v === GEO && this.geo) return { id: GEO, name: 'your location', ...this.geo };
    return CITIES.find((c) => c.id === v) || null;
  }

  weather() {
    const checked = this.form.querySelector('input[name="weather"]:checked');
    return checked ? checked.value : '';
  }

  /**
   * The context for setContext. allowed(kind) says whether the person lets
   * the page hand over signals of that kind (the preference center's
   * switches for signals the page supplies).
   */
  context(allowed = () => true) {
    const f = this.form.elements;
    const ctx = { now: Date.now() };
    const place = this.place();
    if (place && allowed('location')) ctx.location = { lat: place.lat, lon: place.lon };
    if (this.weather() && allowed('weather')) ctx.weather = this.weather();
    if (allowed('time')) {
      if (f.daypart.value) ctx.daypart = f.daypart.value;
      if (f.weekday.value) ctx.weekday = f.weekday.value;
    }
    if (allowed('device')) ctx.device = f.device.value || deviceFor(window.innerWidth);
    if (f.visits.value && allowed('visits')) ctx.visits = Number(f.visits.value);
    if (f.referrer.value && allowed('referrer')) ctx.referrer = f.referrer.value;
    if (f.page_section.value && allowed('page')) ctx.page_section = f.page_section.value;
    return ctx;
  }
}
