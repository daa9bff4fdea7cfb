// Minimal RFC 4180 CSV: quoting for writers, one-line field splitting for readers.
// Threading: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape {

// `field` quoted when it contains a comma, quote, CR or LF (quotes doubled), else as is.
std::string csv_field(std::string_view field);
// Appends `fields` as one CSV record ending in "\n" (what the seed's tools read), quoting
// fields as needed.
void append_csv_row(std::string& out, const std::vector<std::string>& fields);
// Splits one record (no embedded newlines) into fields, honouring quotes. nullopt when a quoted
// field is not closed or a quote appears inside an unquoted field.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line);

}  // namespace bitscrape
