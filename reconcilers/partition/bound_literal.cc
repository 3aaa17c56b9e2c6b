#include "reconcilers/partition/bound_literal.h"

#include <charconv>
#include <cstdint>

namespace partop {
namespace {

// `digits` decimal digits at `text`, or nullopt.
std::optional<int> number(std::string_view text, size_t at, size_t digits) {
  if (at + digits > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

std::optional<KeyValue> integer(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const size_t digits_at = text[0] == '-' ? 1 : 0;
  if (digits_at == text.size()) return std::nullopt;
  for (size_t i = digits_at; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  KeyValue value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<KeyValue> instant(std::string_view text, BoundRounding rounding) {
  // YYYY-MM-DD
  const auto year = number(text, 0, 4);
  const auto month = number(text, 5, 2);
  const auto day = number(text, 8, 2);
  if (!year || !month || !day || text.size() < 10 || text[4] != '-' || text[7] != '-' ||
      *year < 1 || *month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month))
    return std::nullopt;
  int64_t seconds = days_from_civil(*year, *month, *day) * 86400;
  size_t at = 10;
  bool fraction = false;
  if (at < text.size()) {
    // ' HH:MM:SS'
    const auto hour = number(text, at + 1, 2);
    const auto minute = number(text, at + 4, 2);
    const auto second = number(text, at + 7, 2);
    if (text[at] != ' ' || !hour || !minute || !second || text[at + 3] != ':' ||
        text[at + 6] != ':' || *hour > 23 || *minute > 59 || *second > 59)
      return std::nullopt;
    seconds += *hour * 3600 + *minute * 60 + *second;
    at += 9;
    // '.ffffff'
    if (at < text.size() && text[at] == '.') {
      size_t digits = 0;
      for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
        if (text[at] != '0') fraction = true;
      }
      if (digits == 0 || digits > 6) return std::nullopt;
    }
    // '+00': UTC, the only offset a partop session prints.
    if (text.substr(at) == "+00") at += 3;
  }
  if (at != text.size()) return std::nullopt;
  return seconds + (fraction && rounding == BoundRounding::kUp ? 1 : 0);
}

}  // namespace

std::optional<KeyValue> key_of_bound_literal(std::string_view literal, BoundRounding rounding) {
  if (literal.size() >= 2 && literal.front() == '\'' && literal.back() == '\'')
    literal = literal.substr(1, literal.size() - 2);
  if (auto value = integer(literal)) return value;
  return instant(literal, rounding);
}

}  // namespace partop
