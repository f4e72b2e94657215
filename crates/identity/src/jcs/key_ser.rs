//! The object-key serializer of the one-pass JCS writer: JSON keys must be strings.

use serde::ser::{self, Impossible, Serialize};

use super::ser::{Jcs, Key, SerError};

/// Serializes an object key: strings only, as JSON requires.
pub(super) struct KeySer<'a> {
    pub(super) ser: &'a mut Jcs,
}

impl KeySer<'_> {
    fn key(self, s: &str) -> Key {
        let before = self.ser.out.len();
        self.ser.write_str(s);
        let after = self.ser.out.len();
        // Quoted with nothing escaped: the raw key sits between the quotes.
        if after - before == s.len() + 2 {
            Key::InOut(before + 1, after - 1)
        } else {
            Key::Owned(s.to_owned())
        }
    }
}

impl ser::Serializer for KeySer<'_> {
    type Ok = Key;
    type Error = SerError;
    type SerializeSeq = Impossible<Key, SerError>;
    type SerializeTuple = Impossible<Key, SerError>;
    type SerializeTupleStruct = Impossible<Key, SerError>;
    type SerializeTupleVariant = Impossible<Key, SerError>;
    type SerializeMap = Impossible<Key, SerError>;
    type SerializeStruct = Impossible<Key, SerError>;
    type SerializeStructVariant = Impossible<Key, SerError>;

    fn serialize_str(self, v: &str) -> Result<Key, SerError> {
        Ok(self.key(v))
    }
    fn serialize_char(self, v: char) -> Result<Key, SerError> {
        Ok(self.key(v.encode_utf8(&mut [0u8; 4])))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Key, SerError> {
        Ok(self.key(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Key, SerError> {
        v.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_i8(self, _: i8) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_i16(self, _: i16) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_i32(self, _: i32) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_i64(self, _: i64) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_u8(self, _: u8) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_u16(self, _: u16) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_u32(self, _: u32) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_u64(self, _: u64) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_f32(self, _: f32) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_f64(self, _: f64) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_none(self) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_unit(self) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Key, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, SerError> {
        Err(SerError::NonStringKey)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(SerError::NonStringKey)
    }
}
