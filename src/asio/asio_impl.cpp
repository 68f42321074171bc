// The one translation unit that compiles Asio, Asio's SSL layer and Beast
// (BOOST_*_SEPARATE_COMPILATION): everything else includes headers only.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
