//! The compound values of the JCS serializer: arrays ([`Seq`]) and objects ([`Obj`]), with
//! serde's `Serialize*` traits for them. An object remembers where each member starts so
//! that `Jcs::finish_object` can sort the members once it is closed.

use serde::ser::{self, Serialize};

use super::super::key_ser::KeySer;
use super::{Jcs, Key, Member, SerError, to_vec};

/// An array being written.
pub(in crate::jcs) struct Seq<'a> {
    pub(super) ser: &'a mut Jcs,
    pub(super) first: bool,
    /// For tuple variants: close the wrapping object too.
    pub(super) close_variant: bool,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        if !std::mem::take(&mut self.first) {
            self.ser.out.push(b',');
        }
        v.serialize(&mut *self.ser)
    }

    pub(super) fn end(self) -> Result<(), SerError> {
        self.ser.out.push(b']');
        if self.close_variant {
            self.ser.out.push(b'}');
        }
        Ok(())
    }
}

/// The struct name serde_json gives a number when its `arbitrary_precision` feature is on
/// (one Substrate crate turns it on for every crate built with it, features being unified
/// across a workspace): the number arrives as this struct with one string field holding
/// its digits, instead of as an integer or a double.
pub(super) const ARBITRARY_NUMBER: &str = "$serde_json::private::Number";

/// An object being written.
pub(in crate::jcs) struct Obj<'a> {
    ser: &'a mut Jcs,
    start: usize,
    base: usize,
    pending: Option<(Key, usize)>,
    close_variant: bool,
    /// This "object" is serde_json's arbitrary-precision number: write it as a number.
    number: bool,
}

impl<'a> Obj<'a> {
    pub(super) fn new(ser: &'a mut Jcs, close_variant: bool) -> Self {
        ser.out.push(b'{');
        let start = ser.out.len();
        let base = ser.members.len();
        Self {
            ser,
            start,
            base,
            pending: None,
            close_variant,
            number: false,
        }
    }

    /// A number given as serde_json's arbitrary-precision struct: nothing written yet.
    pub(super) fn number(ser: &'a mut Jcs) -> Self {
        let start = ser.out.len();
        let base = ser.members.len();
        Self {
            ser,
            start,
            base,
            pending: None,
            close_variant: false,
            number: true,
        }
    }

    /// Writes the digits `v` carries as the number a non-arbitrary-precision serde_json
    /// would have handed over: an integer if it is one, else an IEEE double (RFC 8785
    /// numbers are doubles).
    fn digits<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        let quoted = to_vec(v)?;
        let text = std::str::from_utf8(&quoted)
            .ok()
            .and_then(|t| t.strip_prefix('"'))
            .and_then(|t| t.strip_suffix('"'))
            .ok_or_else(|| SerError::Custom("malformed arbitrary-precision number".into()))?;
        if let Ok(i) = text.parse::<i128>() {
            return self.ser.write_i128(i);
        }
        let f: f64 = text
            .parse()
            .map_err(|_| SerError::Custom("malformed arbitrary-precision number".into()))?;
        self.ser.write_f64(f)
    }

    fn begin_member(&mut self) -> usize {
        if self.ser.members.len() > self.base {
            self.ser.out.push(b',');
        }
        self.ser.out.len()
    }

    fn end_member(&mut self, key: Key, start: usize) {
        let end = self.ser.out.len();
        self.ser.members.push(Member { key, start, end });
    }

    pub(super) fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        let start = self.begin_member();
        self.ser.write_str(key);
        self.ser.out.push(b':');
        v.serialize(&mut *self.ser)?;
        self.end_member(Key::Static(key), start);
        Ok(())
    }

    pub(super) fn end(self) -> Result<(), SerError> {
        self.ser.finish_object(self.start, self.base);
        if self.close_variant {
            self.ser.out.push(b'}');
        }
        Ok(())
    }
}

macro_rules! seq_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = SerError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
                self.element(v)
            }
            fn end(self) -> Result<(), SerError> {
                Seq::end(self)
            }
        }
    };
}
seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        let start = self.begin_member();
        let k = key.serialize(KeySer {
            ser: &mut *self.ser,
        })?;
        self.ser.out.push(b':');
        self.pending = Some((k, start));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        let (key, start) = self.pending.take().ok_or(SerError::NonStringKey)?;
        v.serialize(&mut *self.ser)?;
        self.end_member(key, start);
        Ok(())
    }
    fn end(self) -> Result<(), SerError> {
        Obj::end(self)
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        if self.number {
            return self.digits(v);
        }
        self.field(key, v)
    }
    fn end(self) -> Result<(), SerError> {
        if self.number {
            return Ok(());
        }
        Obj::end(self)
    }
}

impl ser::SerializeStructVariant for Obj<'_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), SerError> {
        Obj::end(self)
    }
}
